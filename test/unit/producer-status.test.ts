// The producer node's status as i18n messages, rendered with the real en-US and ko
// catalogues: never green while records fail or wait on an unreachable broker, held
// records with their share of buffer.memory and the oldest age, at most 60 characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { renderStatus, STATUS_MAX_CHARS } from '../../src/lib/common/status-message';
import { ProducerMetrics } from '../../src/lib/kafka/producer/metrics';
import type { HeldRecords } from '../../src/lib/kafka/producer/producer';
import { ageMessage, compactCount, percentOf, producerStatus, ProducerStatusView, type StatusInput } from '../../src/lib/kafka/producer/status';
import { ManualClock } from '../../src/lib/common/clock';

function catalogue(lang: string) {
  const file = path.resolve(__dirname, '..', '..', 'locales', lang, 'streamsafe-kafka-producer.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8'))['streamsafe-kafka-producer'];
  return (key: string, values: Record<string, string | number> = {}) => {
    const v = key.split('.').reduce((o: any, k) => (o == null ? o : o[k]), c);
    assert.equal(typeof v, 'string', `${lang}: no message ${key}`);
    return (v as string).replace(/__(\w+)__/g, (_m, n) => {
      assert.ok(n in values, `${lang} ${key}: no value for ${n}`);
      return String(values[n]);
    });
  };
}
const en = catalogue('en-US');
const ko = catalogue('ko');

function metrics(set: (m: ProducerMetrics, clock: ManualClock) => void = () => {}) {
  const clock = new ManualClock();
  const m = new ProducerMetrics(clock);
  set(m, clock);
  return m.snapshot({ available: 0, total: 0 });
}

const none: HeldRecords = { records: 0, bytes: 0, bufferMemory: 33554432, oldestAgeMs: 0, unavailablePartitions: 0, holding: false };
const held = (h: Partial<HeldRecords>): HeldRecords => ({ ...none, ...h });
const input = (i: Partial<StatusInput>): StatusInput => ({ state: 'connected', held: none, metrics: metrics(), compression: 'none', ...i });

function show(i: StatusInput, active = false) {
  const s = producerStatus(i, active);
  if (!s) return undefined;
  return { fill: s.fill, shape: s.shape, en: renderStatus(s.text, en), ko: renderStatus(s.text, ko) };
}

test('broker away with records held: red ring, held count, % of buffer.memory and the oldest age, in both languages', () => {
  const s = show(input({ state: 'disconnected', detail: 'KafkaJSConnectionError: connect ECONNREFUSED', held: held({ records: 1234, bytes: 1_500_000, oldestAgeMs: 45_300 }) }));
  assert.deepEqual(s, {
    fill: 'red',
    shape: 'ring',
    en: 'disconnected · 1.2k held · 4% buffer · oldest 45s',
    ko: '연결 끊김 · 1.2k건 대기 · 버퍼 4% · 최장 45초',
  });
  const later = show(input({ state: 'disconnected', held: held({ records: 30000, bytes: 33_000_000, oldestAgeMs: 200_000 }) }));
  assert.equal(later?.en, 'disconnected · 30k held · 98% buffer · oldest 3m 20s');
  assert.equal(show(input({ state: 'disconnected', detail: 'connect ECONNREFUSED 127.0.0.1:9' }))?.en, 'disconnected: connect ECONNREFUSED 127.0.0.1:9');
  // The cause, not the error's name, survives the 60-character cut.
  assert.equal(
    show(input({ state: 'disconnected', detail: 'KafkaJSConnectionError: Connection error: self-signed certificate in certificate chain' }))?.en,
    'disconnected: self-signed certificate in certificate chain',
  );
  assert.equal(show(input({ state: 'connecting', held: held({ records: 3, bytes: 300, oldestAgeMs: 2100 }) }))?.en, 'connecting · 3 held · 0.1% buffer · oldest 2s');
});

test('connected with partitions unreachable: yellow while some records go through, red when none do', () => {
  const h = held({ records: 40, bytes: 40_000, oldestAgeMs: 9000, unavailablePartitions: 2 });
  const sending = metrics((m) => m.recordsSent(100, 10_000));
  assert.deepEqual(show(input({ held: h, metrics: sending })), {
    fill: 'yellow',
    shape: 'dot',
    en: 'partitions down: 2 · 40 held · 0.1% buffer · oldest 9s',
    ko: '사용 불가 파티션 2개 · 40건 대기 · 버퍼 0.1% · 최장 9초',
  });
  assert.equal(show(input({ held: h }))?.fill, 'red');
});

test('records failing: never green; the short reason first so it survives the 60-character cut', () => {
  const failing = metrics((m) => m.recordsFailed(20));
  const red = show(input({ metrics: failing, lastFailure: 'INVALID_TIMESTAMP' }), true)!;
  assert.equal(red.fill, 'red');
  assert.match(red.en, /^records failing: INVALID_TIMESTAMP · 0\.0 msg\/s · 0\.\d err\/s$/);
  const some = metrics((m) => {
    m.recordsSent(10, 1000);
    m.recordsFailed(10);
  });
  assert.equal(show(input({ metrics: some, lastFailure: 'DeliveryTimeoutError' }), true)!.fill, 'yellow');
});

test('connected and busy: the green metrics summary; idle: nothing new to say', () => {
  const busy = metrics((m) => {
    m.recordsSent(36_000, 3_600_000); // over the 30 s the window counts at least
    m.batch(14_000);
    m.compressed(1000, 310);
  });
  assert.deepEqual(show(input({ metrics: busy, compression: 'lz4' }), true), {
    fill: 'green',
    shape: 'dot',
    en: '1.2k msg/s · batch 14 KB · lz4 0.31',
    ko: '1.2k msg/s · 배치 14 KB · lz4 0.31',
  });
  assert.equal(show(input({})), undefined);
});

test('a fatal error and a redeploy waiting for the earlier producer', () => {
  assert.deepEqual(show(input({ state: 'error', detail: 'KafkaJSSASLAuthenticationError: Authentication failed: SASL SCRAM-SHA-512' })), {
    fill: 'red',
    shape: 'dot',
    en: 'error: Authentication failed: SASL SCRAM-SHA-512',
    ko: '오류: Authentication failed: SASL SCRAM-SHA-512',
  });
  const own = held({ records: 3, bytes: 300, oldestAgeMs: 1500, holding: true });
  const s = show(input({ held: own, previous: { records: 120, oldestAgeMs: 30_000 } }))!;
  assert.equal(s.en, 'previous deploy sending: 120 · 3 held · oldest 1s');
  assert.equal(s.fill, 'yellow');
  // Broker away: what the node holds counts its predecessor's records too.
  assert.equal(show(input({ state: 'disconnected', held: own, previous: { records: 120, oldestAgeMs: 30_000 } }))!.en, 'disconnected · 123 held · 0.1% buffer · oldest 30s');
});

test('every status fits in 60 characters, whatever the figures', () => {
  const worst = held({ records: 9_999_999, bytes: 33554432, oldestAgeMs: 99 * 3600_000, unavailablePartitions: 9999 });
  for (const i of [
    input({ state: 'disconnected', held: worst }),
    input({ held: worst }),
    input({ state: 'error', detail: 'x'.repeat(300) }),
    input({ metrics: metrics((m) => m.recordsFailed(1e6)), lastFailure: 'y'.repeat(200) }),
  ]) {
    const s = producerStatus(i, true)!;
    for (const t of [en, ko]) assert.ok(renderStatus(s.text, t).length <= STATUS_MAX_CHARS, renderStatus(s.text, t));
  }
});

test('the view sets a status only when it changes, and says connected when the state turns connected', () => {
  const v = new ProducerStatusView();
  const first = v.next(input({ state: 'connecting' }));
  assert.equal(first && renderStatus(first.text, en), 'connecting');
  assert.equal(v.next(input({ state: 'connecting' })), undefined, 'same status: not set again');
  const c = v.next(input({}));
  assert.equal(c && renderStatus(c.text, en), 'connected');
  assert.equal(v.next(input({})), undefined);
  const d1 = v.next(input({ state: 'disconnected', held: held({ records: 5, bytes: 500, oldestAgeMs: 1000 }) }));
  const d2 = v.next(input({ state: 'disconnected', held: held({ records: 5, bytes: 500, oldestAgeMs: 2000 }) }));
  assert.equal(d1 && renderStatus(d1.text, en), 'disconnected · 5 held · 0.1% buffer · oldest 1s');
  assert.equal(d2 && renderStatus(d2.text, en), 'disconnected · 5 held · 0.1% buffer · oldest 2s', 'the age moves on');
});

test('figures: counts, percentages and ages', () => {
  assert.deepEqual([0, 999, 1234, 12_345, 2_500_000].map(compactCount), ['0', '999', '1.2k', '12k', '2.5M']);
  assert.deepEqual([percentOf(0, 100), percentOf(1, 100_000), percentOf(5, 1000), percentOf(500, 1000), percentOf(2000, 1000)], ['0', '0.1', '0.5', '50', '100']);
  assert.equal(renderStatus(ageMessage(59_999), en), '59s');
  assert.equal(renderStatus(ageMessage(3_600_000 + 120_000), en), '1h 2m');
  assert.equal(renderStatus(ageMessage(3_600_000 + 120_000), ko), '1시간 2분');
});
