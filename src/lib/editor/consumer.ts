// The consumer editor's rules: lib/kafka/consumer/settings (the runtime's own checks) as
// Node-RED validators returning the translated short reason. Bundled into the editor .html
// files as window.streamsafeEditor.consumer (scripts/editor-bundle.js).
import { msg, renderMessage, type StatusMessage } from '../common/status-message';
import { consumerProblems, DEFAULTS, type ConsumerConfig } from '../kafka/consumer/settings';
import { browserDialog, currentValues, translator, type DialogEnv, type EditorNode } from './node-dialog';

const TYPE = 'streamsafe-kafka-consumer';

/** The fields of the dialog that have a rule, in its order. */
export const FIELDS = [
  'broker',
  'topics',
  'topicsType',
  'groupId',
  'start',
  'startTimestamp',
  'payloadFormat',
  'keyFormat',
  'headersFormat',
  'maxOutstanding',
  'commitMode',
  'autoCommitIntervalMs',
  'finishOn',
  'sessionTimeoutMs',
  'heartbeatIntervalMs',
] as const;

/** The dialog's defaults (the runtime's). */
export const EDITOR_DEFAULTS: Readonly<Record<(typeof FIELDS)[number], string>> = Object.freeze({
  broker: '',
  topics: '',
  topicsType: 'list',
  groupId: '',
  start: 'latest',
  startTimestamp: '',
  payloadFormat: 'text',
  keyFormat: 'text',
  headersFormat: 'text',
  maxOutstanding: String(DEFAULTS.maxOutstanding),
  commitMode: 'atLeastOnce',
  autoCommitIntervalMs: String(DEFAULTS.autoCommitIntervalMs),
  finishOn: 'commitNode',
  sessionTimeoutMs: String(DEFAULTS.sessionTimeoutMs),
  heartbeatIntervalMs: String(DEFAULTS.heartbeatIntervalMs),
});

/** The first problem of one field of the consumer node (a message of its catalogue), undefined when it is fine. */
export function consumerProblem(node: EditorNode, field: string, value: unknown, env: DialogEnv = browserDialog()): StatusMessage | undefined {
  const values = currentValues(node, FIELDS, 'node-input', env) as ConsumerConfig & Record<string, unknown>;
  values[field] = value;
  const p = consumerProblems(values).find((x) => x.field === field);
  if (p) return p.message;
  if (field === 'broker') {
    // A validator replaces Node-RED's own check of the config node: done here.
    const broker = env.node(String(value));
    if (!broker) return msg('errors.noBroker');
    if (broker.valid === false) return msg('errors.broker', { reason: (broker.validationErrors ?? []).filter((e) => typeof e === 'string').join('; ') || '?' });
  }
  return undefined;
}

/** A Node-RED validator's answer for one field of the consumer node: true, or the reason in the editor's language. */
export function validateConsumer(node: EditorNode, field: string, value: unknown, env: DialogEnv = browserDialog()): true | string {
  const p = consumerProblem(node, field, value, env);
  return p ? renderMessage(p, translator(node, TYPE)) : true;
}
