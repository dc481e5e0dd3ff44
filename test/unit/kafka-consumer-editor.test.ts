// The consumer editor's rules (src/lib/editor/consumer.ts, bundled into its .html): each field's
// validator gives the runtime's rule (lib/kafka/consumer/settings) as the reason in the editor's
// language (en-US and ko), reading the other fields from the open dialog. A stand-in dialog, real catalogues.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DialogEnv, EditorNode } from '../../src/lib/editor/node-dialog';
import { EDITOR_DEFAULTS, FIELDS, validateConsumer } from '../../src/lib/editor/consumer';
import { catalogue } from './catalogue';

const TYPE = 'streamsafe-kafka-consumer';

function editorNode(props: Record<string, unknown>, lang = 'en-US'): EditorNode {
  const t = catalogue(lang, TYPE);
  return { type: TYPE, ...EDITOR_DEFAULTS, broker: 'b1', topics: 'tweets', groupId: 'g', ...props, _: (key: string, v?: Record<string, unknown>) => t(key.slice(TYPE.length + 1), v as Record<string, string | number>) };
}
function dialog(editing: object | null = null, inputs: Record<string, unknown> = {}): DialogEnv {
  const nodes: Record<string, EditorNode> = { b1: { type: 'streamsafe-kafka-broker' }, bad: { type: 'streamsafe-kafka-broker', valid: false, validationErrors: ['brokers'] } };
  return { editing: (n) => n === editing, input: (id) => inputs[id], node: (id) => nodes[id] ?? null };
}

describe('editor/consumer', () => {
  it('the defaults pass every rule', () => {
    const node = editorNode({});
    for (const f of FIELDS) assert.equal(validateConsumer(node, f, node[f], dialog()), true, f);
  });

  it("each field's reason is the lib's rule, translated", () => {
    const cases: Array<[Record<string, unknown>, string, unknown, string]> = [
      [{}, 'broker', '', 'Choose a Kafka broker config node'],
      [{}, 'broker', 'bad', 'Kafka broker settings are invalid: brokers'],
      [{}, 'topics', '', 'No topics: name one or more, or a regular expression'],
      [{ topicsType: 'regex' }, 'topics', '[a-', 'Not a regular expression: Invalid regular expression: /[a-/: Unterminated character class'],
      [{}, 'groupId', ' ', 'A group id is required'],
      [{ start: 'timestamp' }, 'startTimestamp', 'soon', 'The start timestamp must be ms since 1970 or an ISO date, got "soon"'],
      [{}, 'maxOutstanding', '0', 'Max outstanding must be a whole number from 1 to 100000, got "0"'],
      [{ commitMode: 'periodic' }, 'autoCommitIntervalMs', '50', 'The commit interval must be a whole number of ms from 100 to 3600000, got "50"'],
      [{}, 'heartbeatIntervalMs', '30000', 'The heartbeat interval (30000 ms) must be shorter than the session timeout (30000 ms)'],
    ];
    for (const [props, field, value, reason] of cases) assert.equal(validateConsumer(editorNode(props), field, value, dialog()), reason, `${field} = ${String(value)}`);
  });

  it('reads the other fields from the open dialog; Korean reasons', () => {
    const node = editorNode({});
    // The dialog shows start = timestamp: the timestamp field is checked.
    assert.notEqual(validateConsumer(node, 'startTimestamp', '', dialog(node, { 'node-input-start': 'timestamp' })), true);
    assert.equal(validateConsumer(node, 'startTimestamp', '', dialog(node, { 'node-input-start': 'earliest' })), true);
    assert.equal(validateConsumer(editorNode({}, 'ko'), 'groupId', '', dialog()), '그룹 ID가 필요합니다');
  });
});
