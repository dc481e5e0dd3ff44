// The consumer's offset tracker and settings rules: what may be committed is the offset after
// the last msg of the unbroken run of finished msgs; finishes of given-up partitions or older
// generations commit nothing; every setting refused with its field and message.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OffsetTracker } from '../../src/lib/kafka/consumer/tracker';
import { ConsumerConfigError, consumerProblems, consumerSettingsFrom, parseTimestamp } from '../../src/lib/kafka/consumer/settings';
import { finishConsumed, registerConsumer, deregisterConsumer, tokenOf, TOKEN_PROPERTY } from '../../src/lib/kafka/consumer/finish-registry';
import { recordToMsg } from '../../src/lib/kafka/consumer/message';

describe('OffsetTracker', () => {
  it('commits only up to the last unbroken finished offset', () => {
    const t = new OffsetTracker();
    t.assign([{ topic: 'a', partition: 0 }]);
    const gens = ['0', '1', '2', '3', '5', '8'].map((o) => t.sent('a', 0, o)!);
    assert.equal(t.outstanding, 6);
    const g = gens[0];
    t.finish({ topic: 'a', partition: 0, offset: '1', generation: g });
    assert.deepEqual(t.committable(), [], 'offset 0 unfinished: nothing');
    t.finish({ topic: 'a', partition: 0, offset: '0', generation: g });
    assert.deepEqual(t.committable(), [{ topic: 'a', partition: 0, offset: '2' }]);
    t.finish({ topic: 'a', partition: 0, offset: '3', generation: g });
    t.finish({ topic: 'a', partition: 0, offset: '5', generation: g });
    assert.deepEqual(t.committable(), [{ topic: 'a', partition: 0, offset: '2' }], '2 still in the flow');
    t.finish({ topic: 'a', partition: 0, offset: '2', generation: g });
    const c = t.committable();
    assert.deepEqual(c, [{ topic: 'a', partition: 0, offset: '6' }], 'gaps in offsets (compaction) are fine');
    t.committed(c, t.generationsOf(c));
    assert.deepEqual(t.committable(), []);
    assert.equal(t.outstanding, 1);
    assert.equal(t.held(), 1);
  });

  it('a finish twice, of an unknown offset, of an older generation or a revoked partition commits nothing', () => {
    const t = new OffsetTracker();
    t.assign([{ topic: 'a', partition: 0 }, { topic: 'a', partition: 1 }]);
    const g0 = t.sent('a', 0, '10')!;
    const g1 = t.sent('a', 1, '4')!;
    assert.equal(t.finish({ topic: 'a', partition: 0, offset: '10', generation: g0 }).outcome, 'ok');
    assert.equal(t.finish({ topic: 'a', partition: 0, offset: '10', generation: g0 }).outcome, 'unknown');
    assert.equal(t.finish({ topic: 'a', partition: 0, offset: '99', generation: g0 }).outcome, 'unknown');
    const r = t.assign([{ topic: 'a', partition: 0 }]);
    assert.deepEqual(r.revoked, [{ topic: 'a', partition: 1 }]);
    assert.equal(r.orphaned, 1);
    assert.equal(t.finish({ topic: 'a', partition: 1, offset: '4', generation: g1 }).outcome, 'late');
    assert.equal(t.finish({ topic: 'a', partition: 0, offset: '10', generation: g0 }).outcome, 'late', 'new generation after the rebalance');
    assert.deepEqual(t.committable(), []);
    assert.equal(t.late, 2);
    assert.equal(t.outstanding, 0);
  });

  it('a rebalance that keeps a partition keeps its generation and msgs in the flow, and says where to read on', () => {
    const t = new OffsetTracker();
    t.assign([{ topic: 'a', partition: 0 }, { topic: 'a', partition: 1 }]);
    const g0 = t.sent('a', 0, '7')!;
    t.sent('a', 0, '8');
    const g1 = t.sent('a', 1, '3')!;
    const r = t.assign([{ topic: 'a', partition: 0 }, { topic: 'b', partition: 0 }], true);
    assert.deepEqual(r.revoked, [{ topic: 'a', partition: 1 }]);
    assert.equal(r.orphaned, 1, 'only the given-up partition orphans its msg');
    assert.deepEqual(r.kept, [{ topic: 'a', partition: 0, next: '9' }]);
    assert.equal(t.outstanding, 2);
    assert.equal(t.generation('a', 0), g0);
    assert.equal(t.finish({ topic: 'a', partition: 1, offset: '3', generation: g1 }).outcome, 'late');
    t.finish({ topic: 'a', partition: 0, offset: '7', generation: g0 });
    t.finish({ topic: 'a', partition: 0, offset: '8', generation: g0 });
    assert.deepEqual(t.committable(), [{ topic: 'a', partition: 0, offset: '9' }]);
    const c = t.committable();
    t.committed(c, t.generationsOf(c));
    assert.deepEqual(t.committable(), []);
    // Kept again: committed once more (the coordinator may have changed and lost the last commit).
    t.assign([{ topic: 'a', partition: 0 }], true);
    assert.deepEqual(t.committable(), [{ topic: 'a', partition: 0, offset: '9' }]);
    // Without keep (or after a restart of the consumer) every partition starts over.
    const r2 = t.assign([{ topic: 'a', partition: 0 }]);
    assert.deepEqual(r2.kept, []);
    assert.notEqual(t.generation('a', 0), g0);
  });

  it('a seek (restart) forgets the partition: a commit recorded for the old generation does not count', () => {
    const t = new OffsetTracker();
    t.assign([{ topic: 'a', partition: 0 }]);
    const g = t.sent('a', 0, '5')!;
    t.finish({ topic: 'a', partition: 0, offset: '5', generation: g });
    const c = t.committable();
    const gens = t.generationsOf(c);
    assert.equal(t.restart('a', 0), 0);
    t.committed(c, gens);
    const g2 = t.sent('a', 0, '2')!;
    assert.notEqual(g2, g);
    t.finish({ topic: 'a', partition: 0, offset: '2', generation: g2 });
    assert.deepEqual(t.committable(), [{ topic: 'a', partition: 0, offset: '3' }], 'a seek back commits the new position');
    assert.equal(t.sent('b', 0, '1'), undefined, 'not owned');
  });

  it('offsets beyond 2^53 are exact', () => {
    const t = new OffsetTracker();
    t.assign([{ topic: 'a', partition: 0 }]);
    const g = t.sent('a', 0, '9007199254740993')!;
    t.finish({ topic: 'a', partition: 0, offset: '9007199254740993', generation: g });
    assert.deepEqual(t.committable(), [{ topic: 'a', partition: 0, offset: '9007199254740994' }]);
  });
});

describe('consumer settings', () => {
  it('defaults', () => {
    const s = consumerSettingsFrom({ broker: 'b', topics: ' tweets, posts ,tweets', groupId: ' g ' });
    assert.deepEqual(s.topics, ['tweets', 'posts']);
    assert.equal(s.groupId, 'g');
    assert.equal(s.commitMode, 'atLeastOnce');
    assert.equal(s.maxOutstanding, 100);
    assert.equal(s.sessionTimeoutMs, 30000);
    assert.equal(s.heartbeatIntervalMs, 3000);
    assert.equal(s.finishOn, 'commitNode');
    assert.equal(s.start, 'latest');
  });

  it('every bad field is named', () => {
    const problems = consumerProblems({
      broker: '',
      topics: '(x',
      topicsType: 'regex',
      groupId: '',
      start: 'timestamp',
      startTimestamp: '2026-13-45',
      payloadFormat: 'xml',
      keyFormat: 'hex',
      headersFormat: 'hex',
      maxOutstanding: '1.5',
      commitMode: 'periodic',
      autoCommitIntervalMs: '5',
      finishOn: 'x',
      sessionTimeoutMs: '10',
      heartbeatIntervalMs: 'a',
    });
    assert.deepEqual(
      problems.map((p) => p.field),
      ['broker', 'topics', 'groupId', 'startTimestamp', 'payloadFormat', 'keyFormat', 'headersFormat', 'maxOutstanding', 'autoCommitIntervalMs', 'finishOn', 'sessionTimeoutMs', 'heartbeatIntervalMs'],
    );
    assert.throws(() => consumerSettingsFrom({ topics: 'a' }), ConsumerConfigError);
  });

  it('timestamps: ms or ISO', () => {
    assert.equal(parseTimestamp('1700000000000'), 1700000000000);
    assert.equal(parseTimestamp('2026-01-31T12:00:00Z'), Date.UTC(2026, 0, 31, 12));
    assert.ok(Number.isNaN(parseTimestamp('yesterday')));
    assert.ok(Number.isNaN(parseTimestamp('-5')));
  });
});

describe('finish registry and msg', () => {
  it('hands a token back to its consumer; none, gone and malformed are told apart', () => {
    const seen: unknown[] = [];
    const h = (tok: unknown) => (seen.push(tok), 'ok' as const);
    registerConsumer('n1', h);
    const token = { node: 'n1', generation: 1, topic: 't', partition: 0, offset: '3' };
    assert.equal(finishConsumed({ [TOKEN_PROPERTY]: token }, 'commitNode'), 'ok');
    assert.equal(finishConsumed({ [TOKEN_PROPERTY]: { ...token, node: 'n2' } }, 'commitNode'), 'gone');
    assert.equal(finishConsumed({ payload: 1 }, 'commitNode'), 'none');
    assert.equal(tokenOf({ [TOKEN_PROPERTY]: { ...token, partition: '0' } }), undefined);
    deregisterConsumer('n1', h);
    assert.equal(finishConsumed({ [TOKEN_PROPERTY]: token }, 'commitNode'), 'gone');
    assert.equal(seen.length, 1);
  });

  it('decodes value, key and headers as set; tombstones are null', () => {
    const m = { offset: '7', timestamp: '1700000000000', key: Buffer.from('k'), value: Buffer.from('{"a":'), headers: { h: Buffer.from('v'), r: [Buffer.from('1'), Buffer.from('2')], none: null }, attributes: 0, size: 0 };
    const s = { payloadFormat: 'json', keyFormat: 'text', headersFormat: 'text', groupId: 'g' } as const;
    const out = recordToMsg(m as never, 't', 2, s);
    assert.equal(out.payload, '{"a":');
    assert.equal(out.parseError?.name, 'JsonParseError');
    assert.equal(out.key, 'k');
    assert.deepEqual(out.headers, { h: 'v', r: ['1', '2'], none: null }, 'a header without a value is null');
    assert.equal(out.timestamp, 1700000000000);
    assert.deepEqual(out.kafka, { topic: 't', partition: 2, offset: '7', timestamp: 1700000000000, key: 'k', headers: { h: 'v', r: ['1', '2'], none: null }, groupId: 'g' });
    const tomb = recordToMsg({ ...m, value: null, key: null } as never, 't', 2, { ...s, payloadFormat: 'buffer', keyFormat: 'buffer' });
    assert.equal(tomb.payload, null);
    assert.equal(tomb.key, null);
  });
});
