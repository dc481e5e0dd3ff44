// Failures of one kind make one line each period, not one each: the first at once,
// then counts with a few keys; memory bounded however many kinds and keys come.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/common/clock';
import { LogSummary, problemLogLine, type LogLine } from '../../src/lib/common/log-summary';
import { errorText, keyText, recordLogLine, shortReason } from '../../src/lib/kafka/producer/failure-log';
import { KafkaProtocolError } from '../../src/lib/kafka/protocol/error-codes';
import { deliveryTimeout } from '../../src/lib/kafka/errors';

function summary(everyMs = 5000, extra = {}) {
  const clock = new ManualClock();
  const lines: LogLine[] = [];
  const s = new LogSummary({ everyMs, clock, ...extra }, (l) => lines.push(l));
  return { clock, lines, s };
}

test('the first failure of a kind is told at once with its key; the next ones as one count per period', () => {
  const { clock, lines, s } = summary();
  s.add('DeliveryTimeoutError', 'Expiring 1 record(s) for t-0: 3001 ms has passed', 'k0');
  assert.deepEqual(lines, [{ type: 'first', kind: 'DeliveryTimeoutError', reason: 'Expiring 1 record(s) for t-0: 3001 ms has passed', key: 'k0' }]);
  for (let i = 1; i < 1234; i++) s.add('DeliveryTimeoutError', `Expiring 1 record(s) for t-${i % 3}: ${3000 + i} ms has passed`, i % 10 === 0 ? null : `k${i}`);
  assert.equal(lines.length, 1, 'nothing more until the period ends');
  clock.advance(5000);
  assert.equal(lines.length, 2);
  const l = lines[1];
  assert.equal(l.type, 'summary');
  if (l.type !== 'summary') return;
  assert.equal(l.count, 1233);
  assert.deepEqual(l.keys, ['k1', 'k2', 'k3', 'k4', 'k5']);
  assert.equal(l.moreKeys, true);
  assert.match(l.reason, /Expiring 1 record\(s\) for t-0: 4233 ms/, 'the latest reason');
  assert.equal(l.periodMs, 5000);
});

test('a kind quiet for a whole period is forgotten: its next failure is told at once again; no timer is left', () => {
  const { clock, lines, s } = summary(1000);
  s.add('E', 'boom', 'a');
  s.add('E', 'boom', 'b');
  clock.advance(1000); // summary of 1
  clock.advance(1000); // quiet: marked
  clock.advance(1000); // quiet again: forgotten, timer stops
  assert.equal(clock.pending(), 0, 'no timer while nothing is counted');
  assert.equal(s.kinds, 0);
  s.add('E', 'boom', 'c');
  assert.deepEqual(
    lines.map((l) => (l.type === 'first' ? `first ${l.key}` : `summary ${l.count}`)),
    ['first a', 'summary 1', 'first c'],
  );
  s.close();
  assert.equal(clock.pending(), 0);
});

test('a kind that keeps coming is told less and less often (period doubling up to maxEveryMs); a new kind still on time', () => {
  const { clock, lines, s } = summary(1000, { maxEveryMs: 8000 });
  const at: number[] = [];
  const start = clock.now();
  // One failure every 100 ms for 60 s (a broker away, reconnect attempts failing).
  for (let t = 0; t < 60_000; t += 100) {
    s.add('unreachable', 'connect ECONNREFUSED 127.0.0.1:9092');
    const before = lines.length;
    clock.advance(100);
    for (let i = before; i < lines.length; i++) at.push(clock.now() - start);
  }
  const sums = lines.filter((l) => l.type === 'summary');
  assert.deepEqual(at.slice(0, 5), [1000, 3000, 7000, 15000, 23000], 'periods 1, 2, 4, 8, 8 s');
  assert.ok(sums.length <= 10, `${sums.length} summaries for 600 failures`);
  s.flush(); // what is counted and not yet due
  assert.equal(lines.reduce((n, l) => n + (l.type === 'first' ? 1 : l.count), 0), 600);
  // Meanwhile another kind gets its own first line at once and its summary after 1 s, not 8.
  const before = lines.length;
  s.add('E', 'other', 'a');
  s.add('E', 'other', 'b');
  clock.advance(1000);
  assert.deepEqual(lines.slice(before).filter((l) => l.kind === 'E').map((l) => l.type), ['first', 'summary']);
  s.close();
  assert.equal(clock.pending(), 0);
});

test('kinds and reasons that differ only in numbers are one group; other reasons are groups of their own', () => {
  const { clock, lines, s } = summary();
  s.add('KafkaProtocolError', 'INVALID_TIMESTAMP [t-1]', 'a');
  s.add('KafkaProtocolError', 'INVALID_TIMESTAMP [t-2]', 'b');
  s.add('KafkaProtocolError', 'MESSAGE_TOO_LARGE [t-1]', 'c');
  s.add('RecordError', 'msg.payload is missing', 'd');
  assert.equal(lines.filter((l) => l.type === 'first').length, 3);
  clock.advance(5000);
  const sums = lines.filter((l) => l.type === 'summary');
  assert.equal(sums.length, 1);
  assert.equal(sums[0].type === 'summary' && sums[0].count, 1);
});

test('memory is bounded: a flood of distinct kinds shares one "other" group; keys and reasons are cut', () => {
  const { clock, lines, s } = summary(1000, { maxKinds: 4, maxKeyChars: 10, maxReasonChars: 30 });
  for (let i = 0; i < 10_000; i++) s.add(`Kind${String.fromCharCode(65 + (i % 26))}`, `reason ${'x'.repeat(100)} ${String.fromCharCode(97 + (i % 26))}`, `key-${'y'.repeat(50)}-${i}`);
  assert.ok(s.kinds <= 4, `${s.kinds} kinds kept`);
  clock.advance(1000);
  const all = lines.map((l) => l.reason);
  assert.ok(all.every((r) => r.length <= 30 + 30), 'reasons cut');
  for (const l of lines) {
    const keys = l.type === 'first' ? [l.key] : l.keys;
    for (const k of keys) assert.ok(k == null || k.length <= 10, `key cut: ${k}`);
  }
  const counted = lines.reduce((n, l) => n + (l.type === 'first' ? 1 : l.count), 0);
  assert.equal(counted, 10_000, 'every failure is counted once');
  assert.ok(lines.some((l) => l.type === 'summary' && l.kind === 'other'));
});

test('close tells what was counted and leaves no timer; an emit that throws reaches onError, not the caller', () => {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const s = new LogSummary({ everyMs: 1000, clock }, () => {
    throw new Error('log sink down');
  }, (e) => errors.push(e));
  assert.doesNotThrow(() => s.add('E', 'x', 'k'));
  s.add('E', 'x', 'k2');
  s.close();
  assert.equal(clock.pending(), 0);
  assert.equal(errors.length, 2);
});

test('log lines: the first names its key, a summary its count, period and first keys', () => {
  const t = (key: string, v: Record<string, string | number> = {}) => `${key}(${Object.entries(v).map(([k, x]) => `${k}=${x}`).join(';')})`;
  assert.equal(
    recordLogLine({ type: 'first', kind: 'DeliveryTimeoutError', reason: 'Expiring 1 record(s)', key: null }, t),
    'log.recordFailed(key=log.noKey();error=DeliveryTimeoutError: Expiring 1 record(s))',
  );
  assert.equal(
    recordLogLine({ type: 'summary', kind: 'E', reason: 'E: boom', count: 1233, keys: ['a', null], moreKeys: true, periodMs: 4600 }, t),
    'log.recordsFailed(count=1233;seconds=5;error=E: boom;keys=a, log.noKey(), …)',
  );
  assert.equal(problemLogLine({ type: 'first', kind: 'unreachable', reason: 'Kafka broker unreachable' }, t), 'Kafka broker unreachable');
  assert.equal(
    problemLogLine({ type: 'summary', kind: 'unreachable', reason: 'x', count: 3, keys: [], moreKeys: false, periodMs: 5000 }, t),
    'log.problemRepeated(count=3;seconds=5;problem=x)',
  );
  assert.equal(errorText('KafkaProtocolError', 'KafkaProtocolError: x'), 'KafkaProtocolError: x');
  assert.equal(keyText(Buffer.from([1, 2, 255])), '0x0102ff');
  assert.equal(keyText('k'.repeat(100))?.length, 40);
  assert.equal(keyText(undefined), null);
  assert.equal(keyText(42), '42');
  assert.equal(shortReason(new KafkaProtocolError(32)), 'INVALID_TIMESTAMP');
  assert.equal(shortReason(deliveryTimeout('x')), 'DeliveryTimeoutError');
});
