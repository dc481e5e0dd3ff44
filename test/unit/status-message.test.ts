// Statuses as messages end to end without a browser: the runtime side (statusPublisher: the
// status, and its message on a comms topic of its own, since Node-RED forwards only text, fill
// and shape to the editor) and the editor side (src/lib/editor/status.ts: the status shown in
// the editor's language, whichever of the two arrives first), with the real catalogues.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clip, localStatus, msg, renderStatus, STATUS_I18N_TOPIC, STATUS_MAX_CHARS, statusPublisher, type NodeStatus } from '../../src/lib/common/status-message';
import { installStatusTranslation } from '../../src/lib/editor/status';
import { catalogue } from './catalogue';

const en = catalogue('en-US', 'streamsafe-x-stream');
const ko = catalogue('ko', 'streamsafe-x-stream');

describe('statusPublisher (runtime)', () => {
  it('sets the status and publishes its message, retained; a plain or cleared status removes it', () => {
    const shown: unknown[] = [];
    const published: Array<[string, unknown, boolean]> = [];
    const set = statusPublisher({ id: 'n1', status: (s) => shown.push(s) }, (topic, data, retain) => published.push([topic, data, retain]));
    const status = localStatus('green', 'dot', msg('status.connected'), en);
    set(status);
    assert.deepEqual(shown, [status]);
    assert.deepEqual(published, [[`${STATUS_I18N_TOPIC}/n1`, { text: 'connected', i18n: { key: 'status.connected' } }, true]]);
    set({});
    assert.deepEqual(published.at(-1), [`${STATUS_I18N_TOPIC}/n1`, {}, false]);
    set({ fill: 'red', shape: 'dot', text: 'plain' } as NodeStatus);
    assert.equal(published.length, 2, 'nothing more to remove');
  });
});

describe('installStatusTranslation (editor)', () => {
  it('shows our nodes\' statuses in the editor\'s language: note before or after the status, never another node\'s', () => {
    const subs = new Map<string, (topic: string, msg: any) => void>();
    const redrawn: string[] = [];
    const nodes: Record<string, any> = {
      x1: { id: 'x1', type: 'streamsafe-x-stream', _: (k: string, v?: Record<string, string | number>) => ko(k.slice('streamsafe-x-stream.'.length), v) },
      x2: { id: 'x2', type: 'streamsafe-x-stream', _: (k: string, v?: Record<string, string | number>) => ko(k.slice('streamsafe-x-stream.'.length), v) },
      inj: { id: 'inj', type: 'inject', _: () => 'never' },
    };
    installStatusTranslation({
      comms: { subscribe: (topic, fn) => subs.set(topic, fn) },
      nodes: { node: (id) => nodes[id] ?? null },
      view: { redrawStatus: (n: any) => redrawn.push(n.id) },
    });
    const status = (topic: string, s: any) => {
      // Node-RED's own handler runs first: it sets node.status (text as the runtime sent it).
      const id = topic.split('/')[1];
      if (nodes[id]) nodes[id].status = s;
      subs.get('status/#')!(topic, s);
    };
    const note = (topic: string, n: unknown) => subs.get(`${STATUS_I18N_TOPIC}/#`)!(topic, n);

    // The status first (as Node-RED sends it: text, fill, shape), then its note.
    const retry = localStatus('red', 'ring', msg('status.retrying', { seconds: '5', reason: msg('status.noRules', { title: 'RuleConfigurationIssue' }) }), en);
    status('status/x1', { text: retry.text, fill: 'red', shape: 'ring' });
    assert.equal(nodes.x1.status.text, 'retry in 5 s: no rules at X (409 RuleConfigurationIssue)');
    note(`${STATUS_I18N_TOPIC}/x1`, { text: retry.text, i18n: retry.i18n });
    assert.equal(nodes.x1.status.text, '5초 후 재시도: X에 규칙 없음 (409 RuleConfigurationIssue)');
    assert.deepEqual(redrawn, ['x1']);

    // The note first, then the status.
    const bad = localStatus('red', 'dot', msg('status.invalid', { reason: msg('account.noToken') }), en);
    note(`${STATUS_I18N_TOPIC}/x2`, { text: bad.text, i18n: bad.i18n });
    status('status/x2', { text: bad.text, fill: 'red', shape: 'dot' });
    assert.equal(nodes.x2.status.text, '잘못된 설정: X 자격 증명: bearer 토큰 없음');

    // A newer status without a note of its own keeps its text; a removed note no longer applies.
    status('status/x2', { text: 'something else', fill: 'grey', shape: 'ring' });
    assert.equal(nodes.x2.status.text, 'something else');
    note(`${STATUS_I18N_TOPIC}/x2`, {});
    status('status/x2', { text: bad.text, fill: 'red', shape: 'dot' });
    assert.equal(nodes.x2.status.text, bad.text);

    // Another package's node is left alone, with or without a note.
    note(`${STATUS_I18N_TOPIC}/inj`, { text: 'connected', i18n: { key: 'status.connected' } });
    status('status/inj', { text: 'connected' });
    assert.equal(nodes.inj.status.text, 'connected');
    // Clipped in Korean too.
    const long = localStatus('red', 'dot', msg('status.stoppedOther', { reason: 'y'.repeat(200) }), en);
    note(`${STATUS_I18N_TOPIC}/x1`, { text: long.text, i18n: long.i18n });
    status('status/x1', { text: long.text });
    assert.equal(nodes.x1.status.text.length, STATUS_MAX_CHARS);
    assert.equal(nodes.x1.status.text, clip(renderStatus(long.i18n!, ko)));
  });
});
