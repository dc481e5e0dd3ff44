import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/common/clock';
import { metricsSummary, ProducerMetrics } from '../../src/lib/kafka/producer/metrics';

test('rates are per second over the window; averages and maxima over it too', () => {
  const clock = new ManualClock();
  const m = new ProducerMetrics(clock, 60000, 2);
  for (let s = 0; s < 60; s++) {
    m.recordsSent(100, 100 * 1024);
    m.request(100, 10 + (s % 5));
    m.batch(16384);
    clock.advance(1000);
  }
  m.recordsFailed(30);
  m.retried(60);
  m.compressed(1000, 310);
  m.compressed(1000, 290);
  const snap = m.snapshot({ available: 1000, total: 4000 }, 7, 2);
  assert.ok(Math.abs(snap['record-send-rate'] - 100) < 5, String(snap['record-send-rate']));
  assert.ok(Math.abs(snap['byte-rate'] - 102400) < 6000, String(snap['byte-rate']));
  assert.equal(snap['batch-size-avg'], 16384);
  assert.equal(snap['records-per-request-avg'], 100);
  assert.equal(snap['request-latency-max'], 14);
  assert.equal(snap['request-latency-avg'], 12);
  assert.equal(snap['compression-rate-avg'], 0.3);
  assert.equal(snap['record-send-total'], 6000);
  assert.equal(snap['record-error-total'], 30);
  assert.equal(snap['record-retry-total'], 60);
  assert.equal(snap['buffer-available-bytes'], 1000);
  assert.equal(snap['records-queued'], 7);
  assert.equal(snap['requests-in-flight'], 2);
});

test('old samples leave the window', () => {
  const clock = new ManualClock();
  const m = new ProducerMetrics(clock, 10000, 2);
  m.recordsSent(1000, 1000);
  m.request(1000, 500);
  clock.advance(30000);
  const snap = m.snapshot({ available: 0, total: 0 });
  assert.equal(snap['record-send-rate'], 0);
  assert.ok(Number.isNaN(snap['request-latency-max']));
  assert.equal(snap['record-send-total'], 1000, 'totals stay');
});

test('the status summary reads like the issue asks', () => {
  const clock = new ManualClock();
  const m = new ProducerMetrics(clock, 60000, 2);
  for (let s = 0; s < 30; s++) {
    m.recordsSent(1200, 0);
    m.batch(14 * 1024);
    m.compressed(100, 31);
    clock.advance(1000);
  }
  assert.equal(metricsSummary(m.snapshot({ available: 0, total: 0 }), 'lz4'), '1.2k msg/s · batch 14 KB · lz4 0.31');
  assert.equal(metricsSummary(m.snapshot({ available: 0, total: 0 }), 'none'), '1.2k msg/s · batch 14 KB');
});
