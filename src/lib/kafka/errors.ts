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

/** A one-line description for status and logs: "Name: message" of the innermost error (once, if the message already starts with the name). */
export function describeError(err: unknown): string {
  const e = rootCause(err) as { name?: string; message?: string } | undefined;
  if (!e || typeof e !== 'object') return String(err);
  const name = e.name ?? 'Error';
  const message = e.message ?? String(e);
  return message.startsWith(`${name}:`) ? message : `${name}: ${message}`;
}
