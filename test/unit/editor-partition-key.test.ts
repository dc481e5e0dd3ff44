// The partition key editor's rules (src/lib/editor/partition-key.ts, bundled into its .html):
// each field's validator gives the lib's rule (lib/kafka/partition-key-settings, the runtime's
// own check) as the reason in the editor's language, reads the other fields from the open
// dialog, and leaves the key's syntax to Node-RED's own check. A stand-in dialog, real catalogues.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DialogEnv, EditorNode } from '../../src/lib/editor/node-dialog';
import { partitionKeyProblem, validatePartitionKey, type KeySyntaxCheck } from '../../src/lib/editor/partition-key';
import { partitionKeyProblems } from '../../src/lib/kafka/partition-key-settings';
import { catalogue } from './catalogue';

const TYPE = 'streamsafe-partition-key';

function editorNode(props: Record<string, unknown>, lang = 'en-US'): EditorNode {
  const t = catalogue(lang, TYPE);
  return { type: TYPE, key: 'key', keyType: 'msg', nullKey: 'pass', partitionsFrom: 'fixed', partitions: '12', broker: '', topic: '', metadataMaxAgeMs: '300000', ...props, _: (key: string, v?: Record<string, unknown>) => t(key.slice(TYPE.length + 1), v as Record<string, string | number>) };
}
function dialog(nodes: Record<string, EditorNode> = {}, editing: object | null = null, inputs: Record<string, unknown> = {}): DialogEnv {
  return { editing: (n) => n === editing, input: (id) => inputs[id], node: (id) => nodes[id] ?? null };
}
/** Node-RED's typed-property check, as a stand-in: refuses ".." in a path and an unbalanced "(" in JSONata. */
const syntax: KeySyntaxCheck = (expr, type) => (type === 'jsonata' ? (/\(/.test(expr) && !/\)/.test(expr) ? 'Expected ")"' : true) : /\.\./.test(expr) ? 'invalid property expression' : true);
const brokers = { b1: { type: 'streamsafe-kafka-broker' } as EditorNode };

describe('editor/partition-key', () => {
  it('each field\'s reason is the lib\'s rule, translated', () => {
    const cases: Array<[Record<string, unknown>, string, unknown, string]> = [
      [{}, 'partitions', '0', 'The partition count must be a whole number from 1 to 2147483647, got "0"'],
      [{}, 'partitions', '2147483648', 'The partition count must be a whole number from 1 to 2147483647, got "2147483648"'],
      [{}, 'keyType', 'env', 'Unknown key type "env": use msg, flow, global or jsonata'],
      [{ keyType: 'flow' }, 'key', ' ', 'No key property or expression set'],
      [{}, 'nullKey', 'drop', 'Unknown "no key" setting "drop": use pass or error'],
      [{}, 'partitionsFrom', 'zk', 'Unknown partition source "zk": use fixed or broker'],
      [{ partitionsFrom: 'broker' }, 'broker', '', 'Partition count from the broker needs a Kafka broker config node'],
      [{ partitionsFrom: 'broker', broker: 'b1' }, 'topic', 'bad topic', 'Not a Kafka topic name: Topic name "bad topic" is illegal, it contains a character other than ASCII alphanumerics, \'.\', \'_\' and \'-\''],
      [{ partitionsFrom: 'broker', broker: 'b1' }, 'metadataMaxAgeMs', '-1', 'The metadata max age must be a whole number of milliseconds (0 or more), got "-1"'],
    ];
    for (const [props, field, value, reason] of cases) {
      const node = editorNode(props);
      assert.equal(validatePartitionKey(node, field, value, dialog(brokers), syntax), reason, `${field} = ${String(value)}`);
      const lib = partitionKeyProblems({ ...node, [field]: value } as Parameters<typeof partitionKeyProblems>[0]).find((p) => p.field === field);
      assert.deepEqual(partitionKeyProblem(node, field, value, dialog(brokers), syntax), lib?.message, field);
    }
  });

  it('fields of the other partition source are not judged; valid values give true', () => {
    const fixed = editorNode({});
    assert.equal(validatePartitionKey(fixed, 'broker', '', dialog(), syntax), true);
    assert.equal(validatePartitionKey(fixed, 'topic', 'bad topic', dialog(), syntax), true);
    const broker = editorNode({ partitionsFrom: 'broker', broker: 'b1' });
    assert.equal(validatePartitionKey(broker, 'partitions', '', dialog(brokers), syntax), true);
    assert.equal(validatePartitionKey(broker, 'topic', '', dialog(brokers), syntax), true, 'blank: msg.topic');
    for (const field of ['key', 'keyType', 'nullKey', 'partitionsFrom', 'broker', 'topic', 'metadataMaxAgeMs']) {
      assert.equal(validatePartitionKey(broker, field, broker[field], dialog(brokers), syntax), true, field);
    }
  });

  it('reads the partition source from the open dialog', () => {
    const node = editorNode({ partitionsFrom: 'fixed', partitions: '' });
    assert.match(String(validatePartitionKey(node, 'partitions', '', dialog(brokers), syntax)), /partition count/);
    assert.equal(validatePartitionKey(node, 'partitions', '', dialog(brokers, node, { 'node-input-partitionsFrom': 'broker' }), syntax), true);
    assert.match(String(validatePartitionKey(node, 'broker', '', dialog(brokers, node, { 'node-input-partitionsFrom': 'broker' }), syntax)), /needs a Kafka broker config node/);
  });

  it('the broker config node: gone, or invalid with its reasons', () => {
    const node = editorNode({ partitionsFrom: 'broker' });
    assert.match(String(validatePartitionKey(node, 'broker', 'nowhere', dialog(brokers), syntax)), /needs a Kafka broker config node/);
    const bad = { b2: { type: 'streamsafe-kafka-broker', valid: false, validationErrors: ['no brokers'] } as EditorNode };
    assert.equal(validatePartitionKey(node, 'broker', 'b2', dialog(bad), syntax), 'Kafka broker settings are invalid: no brokers');
  });

  it('the key\'s syntax: Node-RED\'s check, for the dialog\'s key type, in our sentence', () => {
    const node = editorNode({});
    assert.equal(validatePartitionKey(node, 'key', 'msg.payload.id', dialog(), syntax), true);
    assert.equal(validatePartitionKey(node, 'key', 'payload..id', dialog(), syntax), 'The key msg.payload..id is not a valid expression: invalid property expression');
    const open = dialog({}, node, { 'node-input-keyType': 'jsonata' });
    assert.equal(validatePartitionKey(node, 'key', '$count(payload', open, syntax), 'The key $count(payload is not a valid expression: Expected ")"');
    assert.equal(validatePartitionKey(editorNode({}, 'ko'), 'partitions', 'x', dialog(), syntax), '파티션 수는 1부터 2147483647 사이의 정수여야 합니다. 입력값: "x"');
  });
});
