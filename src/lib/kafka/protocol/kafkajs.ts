// The one place that reaches into kafkajs's internals. kafkajs 2.2.4 is the
// last release and the project is unmaintained, so these will not move under
// us; the package pins it exactly, and any other copy is reported loudly.
//
// What kafkajs does for us: a TCP/TLS connection per broker with SASL
// (PLAIN, SCRAM), the ApiVersions handshake, request framing (header,
// correlation ids, one response per request in order) and the request
// timeout. What it does not do for us: Produce, Metadata and InitProducerId
// requests are written and read by this folder, and kafkajs retries nothing
// on our path (we never call its producer, cluster or retrier).
/* eslint-disable @typescript-eslint/no-require-imports */

/** the kafkajs version whose internals this folder was written and tested against */
export const TESTED_KAFKAJS = '2.2.4';

export const kafkajsVersion: string = (require('kafkajs/package.json') as { version: string }).version;

let versionReported = false;
/**
 * Says (once per process, as an error) when the kafkajs found is not the one
 * tested. Returns whether it is the tested one.
 */
export function checkKafkajsVersion(report: (message: string) => void): boolean {
  if (kafkajsVersion === TESTED_KAFKAJS) return true;
  if (!versionReported) {
    versionReported = true;
    report(
      `kafkajs ${kafkajsVersion} found, but this package was tested with kafkajs ${TESTED_KAFKAJS} only: ` +
        `its connection internals (src/lib/kafka/protocol/kafkajs.ts) may differ. Install kafkajs@${TESTED_KAFKAJS}.`,
    );
  }
  return false;
}

// ---- types of the internals used ---------------------------------------------

export interface ApiVersionRange {
  minVersion: number;
  maxVersion: number;
}

/** A request as kafkajs's Connection.send takes it. */
export interface KafkajsProtocolRequest {
  request: {
    apiKey: number;
    apiVersion: number;
    apiName: string;
    encode: () => unknown;
    expectResponse?: () => boolean;
  };
  response: {
    decode: (payload: Buffer) => Promise<unknown>;
    parse: (decoded: unknown) => Promise<unknown>;
  };
  requestTimeout?: number;
  logResponseError?: boolean;
}

export interface KafkajsConnection {
  isConnected(): boolean;
  rejectRequests(error: Error): void;
  disconnect(): Promise<unknown>;
}

export interface KafkajsConnectionPool {
  host: string;
  port: number;
  rack?: string | null;
  pool: KafkajsConnection[];
  send(request: KafkajsProtocolRequest): Promise<unknown>;
}

export interface KafkajsBroker {
  nodeId: number | null;
  versions: Record<number, ApiVersionRange> | null;
  connectionPool: KafkajsConnectionPool;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;
}

export interface KafkajsLogEntry {
  namespace?: string;
  level: number;
  label: string;
  log: { message: string; broker?: string; error?: string; [k: string]: unknown };
}

export interface ConnectionSettings {
  brokers: string[];
  clientId: string;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  ssl?: unknown;
  sasl?: unknown;
  /** every kafkajs log line (it logs each connection error it sees) */
  log?: (entry: KafkajsLogEntry) => void;
}

// ---- the internals ---------------------------------------------------------------

const Broker = require('kafkajs/src/broker') as new (o: {
  connectionPool: KafkajsConnectionPool;
  logger: unknown;
  nodeId?: number | null;
  versions?: Record<number, ApiVersionRange> | null;
  allowAutoTopicCreation?: boolean;
}) => KafkajsBroker;
const connectionPoolBuilder = require('kafkajs/src/cluster/connectionPoolBuilder') as (o: Record<string, unknown>) => {
  build(o?: { host?: string; port?: number; rack?: string | null }): Promise<KafkajsConnectionPool>;
};
const defaultSocketFactory = require('kafkajs/src/network/socketFactory') as () => unknown;
const { createLogger, LEVELS } = require('kafkajs/src/loggers') as {
  createLogger(o: { level: number; logCreator: unknown }): unknown;
  LEVELS: Record<'NOTHING' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG', number>;
};
const Encoder = require('kafkajs/src/protocol/encoder') as new (size?: number) => { buf: Buffer; offset: number };
const { errorCodes } = require('kafkajs/src/protocol/error') as { errorCodes: Array<{ code: number; message: string }> };

/** kafkajs's description of an error code, if it knows the code. */
export function kafkajsErrorMessage(code: number): string | undefined {
  return errorCodes.find((e) => e.code === code)?.message;
}

/** Makes broker objects: one connection (pool) each, sharing TLS/SASL settings. */
export class KafkajsBrokerFactory {
  private readonly builder: ReturnType<typeof connectionPoolBuilder>;
  private readonly logger: unknown;

  constructor(settings: ConnectionSettings) {
    const sink = settings.log;
    this.logger = createLogger({
      level: sink ? LEVELS.INFO : LEVELS.NOTHING,
      logCreator: () => (entry: KafkajsLogEntry) => sink?.(entry),
    });
    this.builder = connectionPoolBuilder({
      socketFactory: defaultSocketFactory(),
      brokers: settings.brokers,
      ssl: settings.ssl,
      sasl: settings.sasl,
      clientId: settings.clientId,
      connectionTimeout: settings.connectionTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      enforceRequestTimeout: true,
      // The producer limits requests in flight per broker itself.
      maxInFlightRequests: null,
      logger: this.logger,
    });
  }

  /** A broker object for host:port (not connected yet). */
  async create(host: string, port: number, nodeId: number | null, versions?: Record<number, ApiVersionRange> | null): Promise<KafkajsBroker> {
    const connectionPool = await this.builder.build({ host, port });
    return new Broker({ connectionPool, logger: this.logger, nodeId, versions: versions ?? null, allowAutoTopicCreation: true });
  }
}

/**
 * kafkajs frames a request around an Encoder of its own kind: hand it one
 * that already holds our bytes.
 */
export function encoderHolding(bytes: Buffer): unknown {
  const e = new Encoder(0);
  e.buf = bytes;
  e.offset = bytes.length;
  return e;
}

/** Kafka API keys of the requests this folder writes. */
export const ApiKey = { Produce: 0, Metadata: 3, InitProducerId: 22 } as const;
