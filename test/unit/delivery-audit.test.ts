import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  auditDelivery,
  auditValue,
  parseAuditValue,
  type AckedRecord,
  type StoredRecord,
} from '../support/delivery-audit';

/** Acked records of one stream, keyed by the stream, stored back to back in one partition. */
function clean(stream: string, n: number, partition = 0, firstOffset = 0): { acked: AckedRecord[]; stored: StoredRecord[] } {
  const acked: AckedRecord[] = [];
  const stored: StoredRecord[] = [];
  for (let i = 0; i < n; i++) {
    const value = auditValue(stream, i);
    const offset = String(firstOffset + i);
    acked.push({ value, key: stream, partition, offset });
    stored.push({ value, key: stream, partition, offset });
  }
  return { acked, stored };
}

test('auditValue / parseAuditValue: format, padding, round trip, rejects', () => {
  assert.equal(auditValue('k3', 123), 'k3:000123');
  assert.equal(auditValue('k3', 1234567), 'k3:1234567');
  const padded = auditValue('k3', 5, 20);
  assert.equal(padded, 'k3:000005~xxxxxxxxxx');
  assert.equal(padded.length, 20);
  assert.equal(auditValue('k3', 5, 9), 'k3:000005', 'no padding when the bare value is long enough');
  assert.deepEqual(parseAuditValue(padded), { stream: 'k3', seq: 5 });
  assert.deepEqual(parseAuditValue(auditValue('a.b_c-1', 42)), { stream: 'a.b_c-1', seq: 42 });
  for (const bad of [null, '', 'k3', 'k3:12', 'k3:000001x', ':000001', 'k 3:000001']) {
    assert.equal(parseAuditValue(bad), undefined, String(bad));
  }
  assert.throws(() => auditValue('a:b', 1), /stream/);
  assert.throws(() => auditValue('k', -1), /seq/);
  assert.throws(() => auditValue('k', 1.5), /seq/);
});

test('a clean run is OK and the summary says so', () => {
  const a = clean('k1', 3, 0);
  const b = clean('k2', 2, 1);
  const stored = [b.stored[0], a.stored[0], a.stored[1], b.stored[1], a.stored[2]]; // partitions interleaved
  const audit = auditDelivery({ acked: [...a.acked, ...b.acked], failed: [{ value: auditValue('k1', 3), key: 'k1', error: new Error('x') }] }, stored);
  assert.equal(audit.ok, true, audit.summary);
  assert.deepEqual(audit.counts, {
    acked: 5, failed: 1, pending: 0, stored: 5,
    lost: 0, duplicated: 0, reordered: 0, failedButWritten: 0, wrongOffset: 0, wrongKey: 0, unknown: 0, conflicting: 0, pendingWritten: 0,
  });
  assert.equal(audit.summary, 'delivery audit OK: 5 acked, 1 failed, 5 stored');
});

test('lost: acknowledged but not stored', () => {
  const { acked, stored } = clean('k', 4);
  const audit = auditDelivery({ acked, failed: [] }, [stored[0], stored[1], stored[3]]);
  assert.equal(audit.ok, false);
  assert.equal(audit.counts.lost, 1);
  assert.deepEqual(audit.examples.lost, [acked[2]]);
  assert.equal(audit.counts.wrongOffset, 0);
  assert.match(audit.summary, /^delivery audit FAILED: 4 acked, 0 failed, 3 stored \| lost 1 \(e\.g\. "k:000002" acked at p0@2\)$/);
});

test('duplicated: counted once per value, not also as reordered or unknown', () => {
  const { acked, stored } = clean('k', 3);
  // The producer retried record 1 after 2 was written: 0, 1, 2, 1 (a classic non-idempotent retry).
  const again: StoredRecord = { ...stored[1], offset: '3' };
  const audit = auditDelivery({ acked, failed: [] }, [...stored, again]);
  assert.equal(audit.counts.duplicated, 1);
  assert.deepEqual(audit.examples.duplicated, [{ value: 'k:000001', copies: [{ partition: 0, offset: '1' }, { partition: 0, offset: '3' }] }]);
  assert.equal(audit.counts.reordered, 0);
  assert.equal(audit.counts.unknown, 0);
  assert.equal(audit.counts.wrongOffset, 0, 'one copy is where the ack said');
  assert.match(audit.summary, /duplicated 1 \(e\.g\. "k:000001" at p0@1,p0@3\)/);
});

test('reordered: per partition and stream, in offset order, whatever order the reader returned', () => {
  const { acked } = clean('k', 4);
  // Stored order by offset: 0, 2, 1, 3 -> seq 1 comes after seq 2. Acks say where each landed.
  acked[1].offset = '2';
  acked[2].offset = '1';
  const stored: StoredRecord[] = [
    { partition: 0, offset: '3', key: 'k', value: 'k:000003' }, // reader order must not matter
    { partition: 0, offset: '0', key: 'k', value: 'k:000000' },
    { partition: 0, offset: '2', key: 'k', value: 'k:000001' },
    { partition: 0, offset: '1', key: 'k', value: 'k:000002' },
  ];
  const audit = auditDelivery({ acked, failed: [] }, stored);
  assert.equal(audit.counts.reordered, 1, audit.summary);
  assert.deepEqual(audit.examples.reordered, [{ stream: 'k', partition: 0, record: { offset: '2', seq: 1 }, after: { offset: '1', seq: 2 } }]);
  assert.equal(audit.counts.wrongOffset, 0);
  assert.match(audit.summary, /reordered 1 \(e\.g\. k seq 1 at p0@2 after seq 2 at p0@1\)/);
});

test('reordered: offsets compare as integers, not text, and beyond 2^53', () => {
  const big = 9007199254740993n; // not representable as a double
  const stored: StoredRecord[] = [
    { partition: 0, offset: String(big), key: 'k', value: 'k:000002' },
    { partition: 0, offset: String(big + 1n), key: 'k', value: 'k:000003' },
    { partition: 0, offset: '10', key: 'k', value: 'k:000001' }, // '10' < '9' as text
    { partition: 0, offset: '9', key: 'k', value: 'k:000000' },
  ];
  const acked: AckedRecord[] = [
    { value: 'k:000000', key: 'k', partition: 0, offset: 9 },
    { value: 'k:000001', key: 'k', partition: 0, offset: 10n },
    { value: 'k:000002', key: 'k', partition: 0, offset: big },
    { value: 'k:000003', key: 'k', partition: 0, offset: String(big + 1n) },
  ];
  const audit = auditDelivery({ acked, failed: [] }, stored);
  assert.equal(audit.ok, true, audit.summary);
  // And off by one at that size is seen.
  acked[2].offset = String(big - 1n);
  assert.equal(auditDelivery({ acked, failed: [] }, stored).counts.wrongOffset, 1);
});

test('no order across partitions or across streams', () => {
  const stored: StoredRecord[] = [
    { partition: 0, offset: '0', key: null, value: 'n:000002' },
    { partition: 1, offset: '0', key: null, value: 'n:000001' }, // null keys spread over partitions
    { partition: 0, offset: '1', key: 'b', value: 'b:000000' }, // another stream, lower seq
  ];
  const acked = stored.map((r) => ({ value: r.value!, key: r.key, partition: r.partition, offset: r.offset }));
  const audit = auditDelivery({ acked, failed: [] }, stored);
  assert.equal(audit.ok, true, audit.summary);
});

test('failed-but-written, with the error text', () => {
  const { acked, stored } = clean('k', 2);
  const failedValue = auditValue('k', 2);
  const audit = auditDelivery(
    { acked, failed: [{ value: failedValue, key: 'k', error: new RangeError('delivery timeout') }, { value: auditValue('k', 3), key: 'k', error: 'timeout' }] },
    [...stored, { partition: 0, offset: '2', key: 'k', value: failedValue }],
  );
  assert.equal(audit.counts.failedButWritten, 1);
  assert.deepEqual(audit.examples.failedButWritten, [{ value: failedValue, error: 'RangeError: delivery timeout', stored: [{ partition: 0, offset: '2' }] }]);
  assert.equal(audit.counts.unknown, 0, 'a failed record is known');
  assert.match(audit.summary, /failed-but-written 1 \(e\.g\. "k:000002" at p0@2, failed with RangeError: delivery timeout\)/);
});

test('wrong offset and wrong partition; unknown offsets check the partition only', () => {
  const { acked, stored } = clean('k', 4);
  acked[0].offset = '7';
  acked[1].partition = 1;
  acked[2].offset = -1; // acks=0: no offset known
  acked[3].offset = undefined;
  acked[3].partition = 2;
  const audit = auditDelivery({ acked, failed: [] }, stored);
  assert.equal(audit.counts.wrongOffset, 3, audit.summary);
  assert.deepEqual(
    audit.examples.wrongOffset.map((w) => [w.value, w.acked]),
    [
      ['k:000000', { partition: 0, offset: '7' }],
      ['k:000001', { partition: 1, offset: '1' }],
      ['k:000003', { partition: 2, offset: null }],
    ],
  );
  assert.match(audit.summary, /wrong-offset 3 \(e\.g\. "k:000000" acked at p0@7, stored at p0@0\)/);
});

test('wrong key: null and empty string are different keys', () => {
  const { acked, stored } = clean('k', 3);
  acked[0].key = null;
  stored[0] = { ...stored[0], key: '' };
  acked[1].key = '';
  stored[1] = { ...stored[1], key: null };
  stored[2] = { ...stored[2], key: 'k2' };
  const audit = auditDelivery({ acked, failed: [] }, stored);
  assert.equal(audit.counts.wrongKey, 3);
  assert.deepEqual(audit.examples.wrongKey, [
    { value: 'k:000000', acked: null, stored: [''] },
    { value: 'k:000001', acked: '', stored: [null] },
    { value: 'k:000002', acked: 'k', stored: ['k2'] },
  ]);
  assert.match(audit.summary, /wrong-key 3 \(e\.g\. "k:000000" acked with key null, stored with ""\)/);
});

test('unknown: never produced, tombstones, and foreign values', () => {
  const { acked, stored } = clean('k', 1);
  const strays: StoredRecord[] = [
    { partition: 0, offset: '1', key: 'k', value: 'k:000099' },
    { partition: 0, offset: '2', key: 'k', value: null },
    { partition: 0, offset: '3', key: null, value: 'hello' },
  ];
  const audit = auditDelivery({ acked, failed: [] }, [...stored, ...strays]);
  assert.equal(audit.counts.unknown, 3);
  assert.deepEqual(audit.examples.unknown, strays);
  assert.match(audit.summary, /unknown 3 \(e\.g\. "k:000099" at p0@1\)/);
});

test('pending records may or may not be written: no error either way', () => {
  const { acked, stored } = clean('k', 2);
  const pending = [{ value: auditValue('k', 2), key: 'k' }, { value: auditValue('k', 3), key: 'k' }];
  const audit = auditDelivery({ acked, failed: [], pending }, [...stored, { partition: 0, offset: '2', key: 'k', value: 'k:000002' }]);
  assert.equal(audit.ok, true, audit.summary);
  assert.equal(audit.counts.pendingWritten, 1);
  assert.equal(audit.summary, 'delivery audit OK: 2 acked, 0 failed, 2 pending (1 written), 3 stored');
});

test('conflicting reports: acked twice, or acked and failed', () => {
  const { acked, stored } = clean('k', 2);
  const audit = auditDelivery(
    { acked: [...acked, { ...acked[0], offset: '0' }], failed: [{ value: acked[1].value, key: 'k', error: 'x' }] },
    stored,
  );
  assert.equal(audit.counts.conflicting, 2);
  assert.deepEqual(audit.examples.conflicting, [
    { value: 'k:000000', reports: ['acked', 'acked'] },
    { value: 'k:000001', reports: ['acked', 'failed'] },
  ]);
  assert.equal(audit.counts.failedButWritten, 0, 'judged as acked, flagged as a conflict');
  assert.equal(audit.counts.lost, 0);
});

test('examples are capped, counts are not; several failures in one summary', () => {
  const { acked } = clean('k', 20);
  const audit = auditDelivery({ acked, failed: [] }, [{ partition: 3, offset: '0', key: null, value: null }], { maxExamples: 2 });
  assert.equal(audit.counts.lost, 20);
  assert.equal(audit.examples.lost.length, 2);
  assert.equal(audit.counts.unknown, 1);
  assert.match(audit.summary, /^delivery audit FAILED: 20 acked, 0 failed, 1 stored \| lost 20 \(e\.g\. "k:000000" acked at p0@0\); unknown 1 \(e\.g\. null at p3@0\)$/);
});
