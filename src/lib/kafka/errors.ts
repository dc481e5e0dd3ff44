// Errors the producer raises itself, named after the Java client's exceptions
// so that a Catch node can tell them apart by `error.name`.

export class ProducerError extends Error {
  /** true when sending again could succeed */
  readonly retriable: boolean;
  constructor(name: string, message: string, retriable = false, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = name;
    this.retriable = retriable;
  }
}

/** A msg that cannot become a record as it is (bad topic, payload, key, headers, partition or timestamp). */
export class RecordError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RecordError';
  }
}

/** buffer.memory was full for max.block.ms (Java: BufferExhaustedException). */
export const bufferExhausted = (message: string) => new ProducerError('BufferExhaustedError', message);

/**
 * The same error without stack frames, for refusals during a flood: the frames
 * would only show the input handler, and each costs a captured trace and, once
 * Node-RED reads it for Catch, a string per refused msg.
 */
export function bufferExhaustedNoStack(message: string): ProducerError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return bufferExhausted(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
/** delivery.timeout.ms passed before an acknowledgement (Java: TimeoutException). */
export const deliveryTimeout = (message: string, cause?: unknown) => new ProducerError('DeliveryTimeoutError', message, false, cause);
/** the record can never be sent in one request (Java: RecordTooLargeException). */
export const recordTooLarge = (message: string) => new ProducerError('RecordTooLargeError', message);
/** the producer closed before the record was acknowledged. */
export const producerClosed = (message: string) => new ProducerError('ProducerClosedError', message);

// kafkajs copies the message of the error it wraps; some wrappers lose the cause.
const CONNECTION_MESSAGE = /Connection error|Connection timeout|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|Request .* timed out|Closed connection/i;

/** Whether a kafkajs (or our) error may succeed if sent again. */
export function isRetriable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: string; retriable?: boolean; cause?: unknown; originalError?: unknown };
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') {
    return isRetriable(e.cause ?? e.originalError);
  }
  // kafkajs wraps a connection failure as "non retriable" once its own connect
  // retries are spent; for us the broker may still come back within
  // delivery.timeout.ms, so what counts is the cause.
  if (e.name === 'KafkaJSNonRetriableError') {
    return isConnectionError(err) || (!(e.cause ?? e.originalError) && CONNECTION_MESSAGE.test(String((err as Error).message)));
  }
  if (e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError' || e.name === 'KafkaJSRequestTimeoutError') {
    return true;
  }
  if (e.name === 'KafkaJSSASLAuthenticationError' || e.name === 'KafkaJSAuthenticationError') return false;
  return e.retriable === true;
}

/** The innermost kafkajs error, whose name and message say what the broker said. */
export function rootCause(err: unknown): unknown {
  let e = err as { name?: string; cause?: unknown; originalError?: unknown } | undefined;
  for (let i = 0; i < 5 && e; i++) {
    const wrapped = e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSNonRetriableError';
    const inner = (e.cause ?? e.originalError) as typeof e;
    if (!wrapped || !inner) break;
    e = inner;
  }
  return e;
}

/** Whether a failure means the broker cannot be reached (for the status). */
export function isConnectionError(err: unknown): boolean {
  const e = rootCause(err) as { name?: string } | undefined;
  return !!e && /Connection|RequestTimeout|BrokerNotFound|KafkaJSLockTimeout/.test(String(e.name));
}

export function isAuthenticationError(err: unknown): boolean {
  const e = rootCause(err) as { name?: string; type?: string } | undefined;
  return !!e && (/Authentication/.test(String(e.name)) || /SASL_AUTHENTICATION_FAILED|AUTHORIZATION/.test(String(e.type)));
}

/** A one-line description for status and logs. */
export function describeError(err: unknown): string {
  const e = rootCause(err) as { name?: string; message?: string; type?: string } | undefined;
  if (!e) return String(err);
  return `${e.name ?? 'Error'}: ${e.message ?? String(e)}`;
}
