// The Kafka broker config node's settings as the editor stores them (strings, a checkbox,
// a tls-config node id, a SASL mechanism and credentials) → checked values. One set of
// rules for the runtime (client-config.ts builds the kafkajs settings from these), the
// "test connection" admin route and the editor's dialog (src/lib/editor/broker.ts): this
// file needs no Node (it imports only common/timers), so the editor can run it.
//
// Every problem is a BrokerProblem: a stable code with its values (the editor and the
// runtime log translate the code), the fields it concerns (the editor marks them) and an
// English message (thrown as BrokerSettingsError where no catalogue is at hand).

import { MAX_TIMER_DELAY_MS } from '../common/timers';

export type SaslMechanism = 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512';
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'];

/** kafkajs's connectionTimeout as the node sets it when the field is blank. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
/** request.timeout.ms (the Java client's default), when the field is blank. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The longest delay a Node timer keeps (a longer one fires at once): the ceiling of every timeout. */
export const MAX_TIMEOUT_MS = MAX_TIMER_DELAY_MS;
export const MIN_TIMEOUT_MS = 1;
/** A request header's client_id is a Kafka STRING: at most 32767 bytes of UTF-8. */
export const MAX_CLIENT_ID_BYTES = 32_767;
/** What the editor shows in a password field whose value is stored on the server. */
export const STORED_PASSWORD = '__PWRD__';

export type BrokerField = 'brokers' | 'clientId' | 'connectionTimeout' | 'requestTimeout' | 'usetls' | 'tls' | 'saslMechanism' | 'username' | 'password';

export type BrokerProblemCode =
  /** {}: the broker list is blank */
  | 'noBrokers'
  /** {address}: an entry is not host:port with a port 1-65535 */
  | 'notHostPort'
  /** {field, value}: `field` is the field's key (a translator adds its label) */
  | 'notWholeNumber'
  /** {field, min, max, value} */
  | 'outOfRange'
  /** {}: a control character (newline, tab, ...) */
  | 'clientIdControl'
  /** {max, bytes} */
  | 'clientIdTooLong'
  /** {value} */
  | 'unknownSasl'
  /** {mechanism} */
  | 'saslNeedsUsername'
  /** {mechanism} */
  | 'saslNeedsPassword'
  /** {id}: TLS is on and names a tls-config node that does not exist */
  | 'tlsConfigMissing';

export interface BrokerProblem {
  code: BrokerProblemCode;
  /** `values.field`, when present, is a field key: translators add `label`, the field's label in their language. */
  /** The fields whose values make the problem. */
  fields: readonly BrokerField[];
  values: Readonly<Record<string, string | number>>;
  /** In English. */
  message: string;
}

/** Broker settings that cannot be used; `problems` says each reason. */
export class BrokerSettingsError extends Error {
  constructor(readonly problems: readonly BrokerProblem[]) {
    super(problems.map((p) => p.message).join('; '));
    this.name = 'BrokerSettingsError';
  }
}

function problem(code: BrokerProblemCode, fields: readonly BrokerField[], values: Record<string, string | number>, message: string): BrokerProblem {
  return { code, fields, values, message };
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/;

function hostPortProblem(address: string): BrokerProblem | undefined {
  const m = HOST_PORT.exec(address);
  const port = m ? Number(m[2]) : 0;
  if (m && port >= 1 && port <= 65535) return undefined;
  return problem('notHostPort', ['brokers'], { address }, `Broker "${address}" is not host:port`);
}

/** "host:port" or "[ipv6]:port" → its parts; throws BrokerSettingsError with the address named. */
export function splitHostPort(address: string): { host: string; port: number } {
  const p = hostPortProblem(address);
  if (p) throw new BrokerSettingsError([p]);
  const m = HOST_PORT.exec(address)!;
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

function brokerEntries(text: unknown): string[] {
  return String(text ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The problems of a broker list ("host:port, host:port"): none listed, or each entry that is not host:port. */
export function brokerListProblems(text: unknown): BrokerProblem[] {
  const list = brokerEntries(text);
  if (!list.length) return [problem('noBrokers', ['brokers'], {}, 'No brokers: list at least one host:port')];
  return list.map(hostPortProblem).filter((p): p is BrokerProblem => p !== undefined);
}

/** "host:port, host:port" → ["host:port", ...]; throws BrokerSettingsError with the bad entries named. */
export function parseBrokerList(text: unknown): string[] {
  const problems = brokerListProblems(text);
  if (problems.length) throw new BrokerSettingsError(problems);
  return brokerEntries(text);
}

/** The broker node's fields as the editor stores them, and its credentials. */
export interface BrokerFields {
  brokers?: unknown;
  clientId?: unknown;
  connectionTimeout?: unknown;
  requestTimeout?: unknown;
  usetls?: unknown;
  /** id of a tls-config node; '' or '_ADD_': none (TLS with the system's CAs) */
  tls?: unknown;
  saslMechanism?: unknown;
  username?: unknown;
  password?: unknown;
}

/** The fields, checked. */
export interface BrokerValues {
  brokers: string[];
  /** blank: the caller's default (the node uses node-red-<node id>) */
  clientId: string;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  tls: boolean;
  /** the tls-config node id, when TLS is on and one is named */
  tlsConfig?: string;
  sasl?: { mechanism: Exclude<SaslMechanism, 'none'>; username: string; password: string };
}

export interface BrokerCheckOptions {
  /** Whether a tls-config node of this id exists; not asked (taken as existing) when absent. */
  tlsConfigExists?: (id: string) => boolean;
}

const TIMEOUT_NAMES: Record<'connectionTimeout' | 'requestTimeout', string> = { connectionTimeout: 'connect timeout', requestTimeout: 'request timeout' };

function timeoutOf(field: 'connectionTimeout' | 'requestTimeout', raw: unknown, fallback: number, problems: BrokerProblem[]): number {
  if (raw === undefined || raw === null) return fallback;
  const text = typeof raw === 'number' ? String(raw) : String(raw).trim();
  if (text === '') return fallback;
  const name = TIMEOUT_NAMES[field];
  if (!/^\d+$/.test(text)) {
    problems.push(problem('notWholeNumber', [field], { field, value: String(raw) }, `The ${name} must be a whole number of milliseconds, got "${String(raw)}"`));
    return fallback;
  }
  const n = Number(text);
  if (n < MIN_TIMEOUT_MS || n > MAX_TIMEOUT_MS) {
    problems.push(
      problem('outOfRange', [field], { field, min: MIN_TIMEOUT_MS, max: MAX_TIMEOUT_MS, value: n }, `The ${name} must be ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS} ms, got ${n}`),
    );
    return fallback;
  }
  return n;
}

function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** A tls-config field's value that names a node ('' and the editor's '_ADD_' do not). */
export function tlsConfigId(value: unknown): string | undefined {
  const id = typeof value === 'string' ? value.trim() : '';
  return id && id !== '_ADD_' ? id : undefined;
}

/** Checks every field; unusable ones are problems and take their default in `values`. */
export function readBrokerFields(f: BrokerFields, opts: BrokerCheckOptions = {}): { values: BrokerValues; problems: BrokerProblem[] } {
  const problems: BrokerProblem[] = [];
  const listProblems = brokerListProblems(f.brokers);
  problems.push(...listProblems);
  const brokers = listProblems.length ? [] : brokerEntries(f.brokers);

  const clientId = typeof f.clientId === 'string' ? f.clientId.trim() : f.clientId == null ? '' : String(f.clientId).trim();
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(clientId)) {
    problems.push(problem('clientIdControl', ['clientId'], {}, 'The client id must not contain control characters (newline, tab, ...)'));
  } else if (utf8Length(clientId) > MAX_CLIENT_ID_BYTES) {
    const bytes = utf8Length(clientId);
    problems.push(problem('clientIdTooLong', ['clientId'], { max: MAX_CLIENT_ID_BYTES, bytes }, `The client id is ${bytes} bytes of UTF-8; Kafka takes at most ${MAX_CLIENT_ID_BYTES}`));
  }

  const connectionTimeoutMs = timeoutOf('connectionTimeout', f.connectionTimeout, DEFAULT_CONNECTION_TIMEOUT_MS, problems);
  const requestTimeoutMs = timeoutOf('requestTimeout', f.requestTimeout, DEFAULT_REQUEST_TIMEOUT_MS, problems);

  const tls = f.usetls === true || f.usetls === 'true';
  const tlsConfig = tls ? tlsConfigId(f.tls) : undefined;
  if (tlsConfig && opts.tlsConfigExists && !opts.tlsConfigExists(tlsConfig)) {
    problems.push(problem('tlsConfigMissing', ['tls'], { id: tlsConfig }, `The TLS configuration node ${tlsConfig} does not exist`));
  }

  const rawMechanism = f.saslMechanism === undefined || f.saslMechanism === null || f.saslMechanism === '' ? 'none' : String(f.saslMechanism);
  let sasl: BrokerValues['sasl'];
  if (!(SASL_MECHANISMS as readonly string[]).includes(rawMechanism)) {
    problems.push(problem('unknownSasl', ['saslMechanism'], { value: rawMechanism }, `Unknown SASL mechanism "${rawMechanism}"`));
  } else if (rawMechanism !== 'none') {
    const mechanism = rawMechanism as Exclude<SaslMechanism, 'none'>;
    const username = typeof f.username === 'string' ? f.username : '';
    const password = typeof f.password === 'string' ? f.password : '';
    const label = mechanism.toUpperCase();
    if (!username) problems.push(problem('saslNeedsUsername', ['username', 'saslMechanism'], { mechanism: label }, `SASL ${label} needs a username`));
    if (!password) problems.push(problem('saslNeedsPassword', ['password', 'saslMechanism'], { mechanism: label }, `SASL ${label} needs a password`));
    sasl = { mechanism, username, password };
  }
  return { values: { brokers, clientId, connectionTimeoutMs, requestTimeoutMs, tls, tlsConfig, sasl }, problems };
}

/** The checked fields; throws BrokerSettingsError listing every problem. */
export function brokerValuesFrom(f: BrokerFields, opts: BrokerCheckOptions = {}): BrokerValues {
  const { values, problems } = readBrokerFields(f, opts);
  if (problems.length) throw new BrokerSettingsError(problems);
  return values;
}

/**
 * The credential a dialog sends: what was typed, or the stored one where the editor
 * shows its placeholder for a stored password (or sent no value at all).
 */
export function typedOrStored(typed: unknown, stored: unknown, placeholder?: string): string {
  if (typed === undefined || typed === null || (placeholder !== undefined && typed === placeholder)) return typeof stored === 'string' ? stored : '';
  return String(typed);
}
