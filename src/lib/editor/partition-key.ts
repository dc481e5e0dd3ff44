// The partition key editor's rules: lib/kafka/partition-key-settings (the runtime's own checks)
// as Node-RED validators returning the translated short reason, plus the key's syntax as
// Node-RED's editor checks it (the runtime parses it with Node-RED too). Bundled into the editor
// .html files as window.streamsafeEditor.partitionKey (scripts/editor-bundle.js).
import { msg, renderMessage, type StatusMessage } from '../common/status-message';
import { partitionKeyProblems, type PartitionKeyConfig } from '../kafka/partition-key-settings';
import { browserDialog, currentValues, translator, type DialogEnv, type EditorNode } from './node-dialog';

const TYPE = 'streamsafe-partition-key';
const FIELDS = ['key', 'keyType', 'nullKey', 'partitionsFrom', 'partitions', 'broker', 'topic', 'metadataMaxAgeMs', 'outputHash'];

/** Node-RED's check of a typed value (RED.utils.validateTypedProperty): true, or its reason. */
export type KeySyntaxCheck = (expression: string, type: string) => true | string;

declare const RED: { utils?: { validateTypedProperty?: (value: string, type: string, opt: object) => true | string } };

function browserKeySyntax(expression: string, type: string): true | string {
  const check = RED.utils && RED.utils.validateTypedProperty;
  return check ? check(expression, type, {}) : true;
}

/** The first problem of one field of the partition key node (a message of its catalogue), undefined when it is fine. */
export function partitionKeyProblem(
  node: EditorNode,
  field: string,
  value: unknown,
  env: DialogEnv = browserDialog(),
  keySyntax: KeySyntaxCheck = browserKeySyntax,
): StatusMessage | undefined {
  const values = currentValues(node, FIELDS, 'node-input', env) as PartitionKeyConfig & Record<string, unknown>;
  values[field] = value;
  const p = partitionKeyProblems(values).find((x) => x.field === field);
  if (p) return p.message;
  if (field === 'broker' && values.partitionsFrom === 'broker') {
    // A validator replaces Node-RED's own check of the config node: done here.
    const broker = env.node(String(value));
    if (!broker) return msg('errors.noBroker');
    if (broker.valid === false) return msg('errors.broker', { reason: (broker.validationErrors ?? []).filter((e) => typeof e === 'string').join('; ') || '?' });
  }
  if (field === 'key' && typeof value === 'string' && value.trim() !== '') {
    const type = typeof values.keyType === 'string' && values.keyType ? values.keyType : 'msg';
    const ok = keySyntax(type === 'msg' ? value.trim().replace(/^msg\./, '') : value.trim(), type);
    if (ok !== true) {
      const label = type === 'jsonata' ? value.trim() : `${type}.${value.trim().replace(/^msg\./, '')}`;
      return msg('errors.keyExpression', { key: label, reason: String(ok) });
    }
  }
  return undefined;
}

/** A Node-RED validator's answer for one field of the partition key node: true, or the reason in the editor's language. */
export function validatePartitionKey(node: EditorNode, field: string, value: unknown, env: DialogEnv = browserDialog(), keySyntax: KeySyntaxCheck = browserKeySyntax): true | string {
  const p = partitionKeyProblem(node, field, value, env, keySyntax);
  return p ? renderMessage(p, translator(node, TYPE)) : true;
}
