// Broker connection settings → a kafkajs client configuration. The Node-RED
// broker config node fills BrokerSettings from its fields, credentials and the
// core tls-config node; everything else here is plain kafkajs.

import type { ConnectionOptions } from 'node:tls';
import { logLevel as KafkaLogLevel, type KafkaConfig, type logCreator, type SASLOptions } from 'kafkajs';
import type { ConnectionSettings } from './protocol/kafkajs';

export type SaslMechanism = 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512';
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'];

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

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/;

/** "host:port" or "[ipv6]:port" → its parts; throws with the address named. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = HOST_PORT.exec(address);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new Error(`Broker "${address}" is not host:port`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/** "host:port, host:port" → ["host:port", ...]; throws with the bad entry named. */
export function parseBrokerList(text: unknown): string[] {
  const list = String(text ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (!list.length) throw new Error('No brokers: list at least one host:port');
  for (const b of list) splitHostPort(b);
  return list;
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
