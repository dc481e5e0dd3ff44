// "Test connection" for the broker config node: connects with the settings as typed and
// says what answers (cluster id, brokers, controller, the Kafka release line inferred from
// ApiVersions), or why nothing does, classified for the editor (refused, timeout, TLS,
// SASL, unknown host) with the error's own message. Also the cluster's topics, for the
// producer's topic field.
//
// Every wait is bounded by the settings' connect + request timeouts (at most a minute per
// step), whatever kafkajs does inside, and every client this opens is closed before the
// answer, also on failure. Nothing retries: a test answers with the first failure.

import { Kafka } from 'kafkajs';
import { boundedDelay } from '../common/timers';
import { connectionSettings, kafkaConfig, splitHostPort, type BrokerSettings } from './client-config';
import { rootCause } from './errors';
import { inferKafkaVersion, type KafkaVersionGuess } from './kafka-version';
import { KafkajsBrokerFactory, type KafkajsBroker } from './protocol/kafkajs';

export type ProbeFailureKind = 'refused' | 'timeout' | 'tls' | 'sasl' | 'unknownHost' | 'other';

/** What the failure suggests beyond its kind, for the editor to say (a message key). */
export type ProbeHint =
  /** TLS is off and the broker closed the connection at once: a TLS listener does that. */
  | 'tlsExpected'
  /** TLS is on and the connection was dropped during the TLS handshake: a listener without TLS does that. */
  | 'noTlsListener'
  /** SASL is on and the broker refused the SASL handshake: the listener has no SASL. */
  | 'saslNotEnabled'
  /** The listener has SASL, not with this mechanism. */
  | 'mechanismNotEnabled';

export interface ProbeFailure {
  kind: ProbeFailureKind;
  /** The error's own message (never a stack), e.g. "Connection error: connect ECONNREFUSED 127.0.0.1:1". */
  reason: string;
  /** The error's name, e.g. KafkaJSConnectionError. */
  error: string;
  /** The broker (host:port) it came from, when known. */
  broker?: string;
  hint?: ProbeHint;
}

/** The test failed; `failure` says how. */
export class ClusterProbeError extends Error {
  constructor(readonly failure: ProbeFailure) {
    super(`${failure.broker ? `${failure.broker}: ` : ''}${failure.reason}`);
    this.name = 'ClusterProbeError';
  }
}

export interface ClusterBroker {
  nodeId: number;
  host: string;
  port: number;
}

export interface ClusterInfo {
  clusterId: string | null;
  /** Node id of the active controller, or null when the cluster names none. */
  controller: number | null;
  brokers: ClusterBroker[];
  /** The bootstrap broker (as typed) whose ApiVersions the version is inferred from. */
  bootstrap: string;
  version: KafkaVersionGuess;
  elapsedMs: number;
}

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);
const SASL_TYPES = new Set(['SASL_AUTHENTICATION_FAILED', 'UNSUPPORTED_SASL_MECHANISM', 'ILLEGAL_SASL_STATE']);

/**
 * The kind of a failure to reach or use a cluster, from the innermost error: its
 * name, Node's error code and kafkajs's error type. `tls` and `sasl` say whether the
 * settings asked for them (which tells what an abruptly closed connection suggests).
 */
export function classifyProbeError(err: unknown, used: { tls: boolean; sasl: boolean }, broker?: string): ProbeFailure {
  const e = (rootCause(err) ?? err) as { name?: string; message?: string; code?: unknown; type?: unknown; broker?: unknown } | undefined;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const reason = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : '';
  const type = typeof e?.type === 'string' ? e.type : '';
  const at = broker ?? (typeof e?.broker === 'string' ? e.broker : undefined);
  const out = (kind: ProbeFailureKind, hint?: ProbeHint): ProbeFailure => ({ kind, reason, error: name, ...(at ? { broker: at } : {}), ...(hint ? { hint } : {}) });

  if (err instanceof ClusterProbeError) return err.failure;
  if (name === 'KafkaJSSASLAuthenticationError' || SASL_TYPES.has(type)) {
    if (type === 'ILLEGAL_SASL_STATE') return out('sasl', 'saslNotEnabled');
    if (type === 'UNSUPPORTED_SASL_MECHANISM') return out('sasl', 'mechanismNotEnabled');
    return out('sasl');
  }
  if (code === 'ECONNREFUSED') return out('refused');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') return out('unknownHost');
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /\bSSL\b|\bTLS\b|certificate/i.test(reason)) {
    return out('tls', used.tls && /before secure TLS connection was established/.test(reason) ? 'noTlsListener' : undefined);
  }
  if (name === 'KafkaJSRequestTimeoutError' || code === 'ETIMEDOUT' || /^Connection timeout$/.test(reason)) return out('timeout');
  if (!used.tls && (name === 'KafkaJSConnectionClosedError' || code === 'ECONNRESET')) return out('tls', 'tlsExpected');
  return out('other');
}

/** Resolves as `promise`, or rejects with a timeout failure after `ms`; the promise's own late outcome is absorbed. */
function within<T>(ms: number, promise: Promise<T>, what: string, broker?: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new ClusterProbeError({ kind: 'timeout', reason: `No answer to ${what} within ${ms} ms`, error: 'ClusterProbeTimeout', ...(broker ? { broker } : {}) }));
    }, boundedDelay(ms));
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * A test waits at most this long for one step, whatever the settings say (they allow up
 * to 24.8 days): someone is waiting for the answer in the editor.
 */
export const PROBE_STEP_MAX_MS = 60_000;

/** How long one step (a connect with its ApiVersions and SASL exchange) may take. */
function stepBound(s: BrokerSettings): number {
  return Math.min(PROBE_STEP_MAX_MS, s.connectionTimeoutMs + s.requestTimeoutMs);
}

/** How long a close may take before it is left to finish in the background. */
const CLOSE_BOUND_MS = 5_000;

function close(what: () => Promise<unknown>): Promise<void> {
  let p: Promise<unknown>;
  try {
    p = what();
  } catch {
    return Promise.resolve();
  }
  return within(CLOSE_BOUND_MS, Promise.resolve(p), 'disconnect').then(
    () => undefined,
    () => undefined,
  );
}

/** A kafkajs admin client that retries nothing and logs nothing. */
function adminOf(s: BrokerSettings) {
  return new Kafka({ ...kafkaConfig(s), retry: { retries: 0 } }).admin();
}

/** Runs `use` with a connected admin client, all bounded; the client is always disconnected. */
async function withAdmin<T>(s: BrokerSettings, use: (admin: ReturnType<typeof adminOf>) => Promise<T>, what: string): Promise<T> {
  const used = { tls: !!s.tls, sasl: !!s.sasl };
  const admin = adminOf(s);
  let connecting: Promise<void> | undefined;
  try {
    connecting = admin.connect();
    await within(stepBound(s), connecting, 'the connection');
    return await within(Math.min(PROBE_STEP_MAX_MS, s.requestTimeoutMs), use(admin), what);
  } catch (err) {
    throw new ClusterProbeError(classifyProbeError(err, used));
  } finally {
    // A connect that outlived its bound may still succeed: close it then too.
    connecting?.then(
      () => close(() => admin.disconnect()),
      () => undefined,
    );
    await close(() => admin.disconnect());
  }
}

/**
 * Connects to each bootstrap broker at once (TCP, TLS, ApiVersions, SASL) and gives the
 * first in list order that answered, with its API versions; every connection is closed
 * before this settles. Rejects with ClusterProbeError: the failure of the first broker
 * listed when none answers.
 */
async function firstAnswering(s: BrokerSettings): Promise<{ address: string; versions: Record<number, { minVersion: number; maxVersion: number }> }> {
  const used = { tls: !!s.tls, sasl: !!s.sasl };
  const factory = new KafkajsBrokerFactory(connectionSettings(s));
  const opened: Array<{ broker: KafkajsBroker; connecting: Promise<void> }> = [];
  try {
    const attempts = s.brokers.map(async (address) => {
      try {
        const { host, port } = splitHostPort(address);
        const broker = await factory.create(host, port, null);
        const connecting = broker.connect();
        opened.push({ broker, connecting });
        await within(stepBound(s), connecting, 'the connection', address);
        return { address, versions: broker.versions ?? {} };
      } catch (err) {
        throw new ClusterProbeError(classifyProbeError(err, used, address));
      }
    });
    const settled = await Promise.allSettled(attempts);
    const first = settled.find((r) => r.status === 'fulfilled');
    if (!first) throw (settled[0] as PromiseRejectedResult).reason;
    return first.value;
  } finally {
    await Promise.all(
      opened.map(({ broker, connecting }) => {
        // A connect that outlived its bound may still succeed: close it then too.
        connecting.then(
          () => close(() => broker.disconnect()),
          () => undefined,
        );
        return close(() => broker.disconnect());
      }),
    );
  }
}

/**
 * Finds the first bootstrap broker that answers (firstAnswering), infers the Kafka
 * release from its ApiVersions, then asks it for the cluster's id, brokers and
 * controller. Rejects with ClusterProbeError.
 */
export async function probeCluster(s: BrokerSettings, now: () => number = Date.now): Promise<ClusterInfo> {
  const started = now();
  const answered = await firstAnswering(s);
  const version = inferKafkaVersion(answered.versions);
  // Only the broker that answered: kafkajs picks a bootstrap broker at random and, retrying nothing, would fail on a dead one.
  const cluster = await withAdmin({ ...s, brokers: [answered.address] }, (admin) => admin.describeCluster(), 'DescribeCluster (Metadata)');
  return {
    clusterId: cluster.clusterId ?? null,
    controller: cluster.controller ?? null,
    brokers: cluster.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })).sort((a, b) => a.nodeId - b.nodeId),
    bootstrap: answered.address,
    version,
    elapsedMs: now() - started,
  };
}

/**
 * Whether a topic is left out of the topics offered to the editor: Kafka's internal
 * topics (__consumer_offsets, __transaction_state, __share_group_state) and, by the
 * convention they follow, every name starting with "_" (Schema Registry's _schemas,
 * Confluent's _confluent-*), as the Kafka UIs hide them.
 */
export function isInternalTopic(name: string): boolean {
  return name.startsWith('_');
}

/** The cluster's topics, internal ones left out, sorted. Rejects with ClusterProbeError. */
export async function listTopics(s: BrokerSettings): Promise<string[]> {
  const answered = await firstAnswering(s);
  const names = await withAdmin({ ...s, brokers: [answered.address] }, (admin) => admin.listTopics(), 'Metadata');
  return names.filter((n) => !isInternalTopic(n)).sort();
}
