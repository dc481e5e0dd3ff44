// The broker dialog's rules, from the runtime's own (src/lib/kafka/broker-settings.ts):
// defaults, and why the value of one field is refused given all the others. The editor
// (streamsafe-kafka-broker.html) reads window.streamsafeEditor.broker. Runs in the
// browser (bundled into the .html).
import {
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
  readBrokerFields,
  SASL_MECHANISMS,
  STORED_PASSWORD,
  type BrokerField,
  type BrokerFields,
  type BrokerProblem,
} from '../kafka/broker-settings';
import { htmlSafe } from './html';
import { browserDialog, currentValues, translator, type DialogEnv, type EditorNode } from './node-dialog';

export type Translate = (code: string, values: Readonly<Record<string, string | number>>) => string;

export const DEFAULTS = Object.freeze({
  brokers: '127.0.0.1:9092',
  clientId: '',
  connectionTimeout: String(DEFAULT_CONNECTION_TIMEOUT_MS),
  requestTimeout: String(DEFAULT_REQUEST_TIMEOUT_MS),
  usetls: false,
  saslMechanism: 'none',
});

export { MAX_TIMEOUT_MS, MIN_TIMEOUT_MS, SASL_MECHANISMS, STORED_PASSWORD };

export interface DialogValues extends BrokerFields {
  /**
   * Whether the credentials are known: in the open dialog they are; for a node outside
   * it the editor may not have them (they stay on the server), and then the SASL
   * username/password rules are not checked.
   */
  credentialsKnown?: boolean;
}

/** Every problem of the dialog's values, by the field(s) each concerns. */
export function problemsByField(values: DialogValues, tlsConfigExists?: (id: string) => boolean): Partial<Record<BrokerField, BrokerProblem[]>> {
  const out: Partial<Record<BrokerField, BrokerProblem[]>> = {};
  const known = values.credentialsKnown !== false;
  // A stored password shows as its placeholder (STORED_PASSWORD), which counts as one.
  for (const p of readBrokerFields(values, { tlsConfigExists }).problems) {
    if (!known && (p.code === 'saslNeedsUsername' || p.code === 'saslNeedsPassword')) continue;
    for (const f of p.fields) (out[f] ??= []).push(p);
  }
  return out;
}

/**
 * Why the value of `field` is refused, given all the dialog's values, or undefined:
 * translated with `translate` when given (its values HTML-escaped: the editor shows reasons
 * as HTML; a `field` value is a field key, for the translator to add its `label`), else in
 * English. Several problems are joined with "; ".
 */
export function fieldProblem(field: string, values: DialogValues, translate?: Translate, tlsConfigExists?: (id: string) => boolean): string | undefined {
  const problems = problemsByField(values, tlsConfigExists)[field as BrokerField];
  if (!problems || !problems.length) return undefined;
  return problems.map((p) => (translate ? translate(p.code, htmlSafe(p.values)) : p.message)).join('; ');
}

/** The broker dialog's fields that a rule reads (besides the credentials). */
export const FIELDS: readonly string[] = ['brokers', 'clientId', 'connectionTimeout', 'requestTimeout', 'usetls', 'tls', 'saslMechanism'];

/**
 * The Node-RED validator of `field`: true, or the reason in the editor's language. The
 * credentials come from the open dialog; outside it the editor has them only once the
 * dialog was opened (has_password: a stored one), else their rules are not checked.
 */
export function validateBroker(node: EditorNode, field: string, value: unknown, env: DialogEnv = browserDialog()): true | string {
  const values = currentValues(node, FIELDS, 'node-config-input', env) as DialogValues & Record<string, unknown>;
  if (env.editing(node)) {
    values.username = env.input('node-config-input-username') as string | undefined;
    values.password = env.input('node-config-input-password') as string | undefined;
  } else {
    const c = node.credentials as { username?: string; password?: string; has_password?: boolean } | undefined;
    values.credentialsKnown = !!c && c.username !== undefined;
    values.username = c?.username;
    values.password = c ? c.password || (c.has_password ? STORED_PASSWORD : '') : undefined;
  }
  values[field] = value;
  const t = translator(node, 'streamsafe-kafka-broker');
  const translate: Translate = (code, v) => t(`validate.${code}`, v.field ? { ...v, label: t(`label.${v.field}`) } : v);
  return fieldProblem(field, values, translate) ?? true;
}
