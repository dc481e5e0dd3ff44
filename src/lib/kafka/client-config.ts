// Broker connection settings → a kafkajs client configuration. The Node-RED
// broker config node fills BrokerSettings from its fields, credentials and the
// core tls-config node (brokerSettingsFrom, with the rules of broker-settings.ts);
// everything else here is plain kafkajs.

import type { ConnectionOptions } from 'node:tls';
import { logLevel as KafkaLogLevel, type KafkaConfig, type logCreator, type SASLOptions } from 'kafkajs';
import type { ConnectionSettings } from './protocol/kafkajs';
import { brokerValuesFrom, type BrokerFields, type SaslMechanism } from './broker-settings';

export { parseBrokerList, SASL_MECHANISMS, splitHostPort, type SaslMechanism } from './broker-settings';

export interface BrokerSettings {
  brokers: string[];
  clientId: string;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  /** TLS options (from the tls-config node), true for TLS with system CAs, undefined for plaintext */
  tls?: ConnectionOptions | true;
  sasl?: { mechanism: Exclude<SaslMechanism, 'none'>; username: string; password: string };
}

export interface LogSink {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

/**
 * kafkajs logs go to the Node-RED debug log whatever their level: during an
 * outage it logs an error per retry, while our own status and errors say what matters.
 */
export function kafkaLogCreator(sink: LogSink): logCreator {
  return () => ({ log }) => sink.debug(kafkajsLogLine(log));
}

/** One kafkajs log entry as a line: its message, the broker, the error. */
function kafkajsLogLine(log: { message: string; broker?: unknown; error?: unknown }): string {
  return `[kafkajs] ${log.message}${log.broker ? ` (${log.broker})` : ''}${log.error ? `: ${log.error}` : ''}`;
}

export function kafkaConfig(s: BrokerSettings, sink?: LogSink): KafkaConfig {
  const config: KafkaConfig = {
    brokers: s.brokers,
    clientId: s.clientId || 'node-red-streamsafe',
    connectionTimeout: s.connectionTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    logLevel: sink ? KafkaLogLevel.INFO : KafkaLogLevel.NOTHING,
    ...(sink ? { logCreator: kafkaLogCreator(sink) } : {}),
  };
  if (s.tls) config.ssl = s.tls === true ? true : s.tls;
  if (s.sasl) {
    config.sasl = { mechanism: s.sasl.mechanism, username: s.sasl.username, password: s.sasl.password } as SASLOptions;
  }
  return config;
}

/** The producer's connection settings (its own connections, the same TLS and SASL). */
export function connectionSettings(s: BrokerSettings, sink?: LogSink): ConnectionSettings {
  const config = kafkaConfig(s);
  return {
    brokers: s.brokers,
    clientId: config.clientId!,
    connectionTimeoutMs: s.connectionTimeoutMs,
    requestTimeoutMs: s.requestTimeoutMs,
    ssl: config.ssl,
    sasl: config.sasl,
    log: sink ? ({ log }) => sink.debug(kafkajsLogLine(log)) : undefined,
  };
}

export interface BrokerSettingsContext {
  /** The client id when the field is blank (the node uses node-red-<node id>). */
  defaultClientId: string;
  /** The TLS options of a tls-config node, or undefined when there is no such node. */
  tlsOptions(id: string): ConnectionOptions | undefined;
}

/**
 * The broker node's fields and credentials → settings for kafkajs and the producer;
 * throws BrokerSettingsError (broker-settings.ts) listing every problem.
 */
export function brokerSettingsFrom(fields: BrokerFields, ctx: BrokerSettingsContext): BrokerSettings {
  const tlsNodes = new Map<string, ConnectionOptions | undefined>();
  const tlsOf = (id: string) => {
    if (!tlsNodes.has(id)) tlsNodes.set(id, ctx.tlsOptions(id));
    return tlsNodes.get(id);
  };
  const v = brokerValuesFrom(fields, { tlsConfigExists: (id) => tlsOf(id) !== undefined });
  return {
    brokers: v.brokers,
    clientId: v.clientId || ctx.defaultClientId,
    connectionTimeoutMs: v.connectionTimeoutMs,
    requestTimeoutMs: v.requestTimeoutMs,
    tls: v.tls ? (v.tlsConfig ? tlsOf(v.tlsConfig)! : true) : undefined,
    sasl: v.sasl,
  };
}
