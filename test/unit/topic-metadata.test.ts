// The partition-count cache's own rules (max age, coalescing, forced refresh,
// remembered failures, close), with a scripted admin and a manual clock so
// every timing is exact. The same cache against the real broker is tested in
// test/nodes/partition-key.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TopicMetadataCache, TopicMetadataError, UnknownTopicError, type MetadataAdmin } from '../../src/lib/kafka/topic-metadata';

/** An admin whose answers the test sets, one pending promise per request. */
class ScriptedAdmin implements MetadataAdmin {
  counts = new Map<string, number>();
  requests: string[] = [];
  connects = 0;
  disconnects = 0;
  failConnect: Error | undefined;
  hold = false;
  private held: Array<() => void> = [];
  failNext: Error | undefined;

  async connect(): Promise<void> {
    this.connects++;
    if (this.failConnect) throw this.failConnect;
  }
  async disconnect(): Promise<void> {
    this.disconnects++;
  }
  async fetchTopicMetadata({ topics }: { topics: string[] }) {
    this.requests.push(topics.join(','));
    // The answer reflects the topics when the request arrived, even if it is held back.
    const failure = this.failNext;
    this.failNext = undefined;
    const snapshot = topics.map((name) => [name, this.counts.get(name)] as const);
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    if (failure) throw failure;
    return {
      topics: snapshot.map(([name, n]) => {
        if (n === undefined) throw Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION' });
        return { name, partitions: Array.from({ length: n }, (_, i) => ({ partitionId: i })) };
      }),
    };
  }
  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));

function setup(options: { maxAge?: number; backoff?: number } = {}) {
  const admin = new ScriptedAdmin();
  let now = 1_000_000;
  const changes: Array<[string, number, number | undefined]> = [];
  const errors: Error[] = [];
  const cache = new TopicMetadataCache(() => admin, {
    metadataMaxAgeMs: options.maxAge ?? 10_000,
    retryBackoffMs: options.backoff ?? 1_000,
    now: () => now,
    onChange: (topic, count, previous) => changes.push([topic, count, previous]),
    onError: (_topic, err) => errors.push(err),
  });
  return { admin, cache, changes, errors, advance: (ms: number) => (now += ms) };
}

describe('TopicMetadataCache', () => {
  it('reads a count once, then answers from the cache until the max age', async () => {
    const { admin, cache, advance, changes } = setup();
    admin.counts.set('t', 6);
    assert.equal(cache.cachedPartitionCount('t'), undefined);
    assert.equal(await cache.partitionCount('t'), 6);
    assert.equal(admin.connects, 1);
    assert.equal(await cache.partitionCount('t'), 6);
    assert.equal(cache.cachedPartitionCount('t'), 6);
    advance(9_999);
    assert.equal(cache.cachedPartitionCount('t'), 6);
    assert.deepEqual(admin.requests, ['t']);
    assert.deepEqual(changes, [['t', 6, undefined]]);
    assert.equal(cache.requests, 1);
  });

  it('after the max age: answers with the count it has and refreshes in the background', async () => {
    const { admin, cache, advance, changes } = setup();
    admin.counts.set('t', 3);
    await cache.partitionCount('t');
    admin.counts.set('t', 5);
    advance(10_000);
    assert.equal(cache.cachedPartitionCount('t'), 3, 'stale count served at once');
    assert.equal(cache.cachedPartitionCount('t'), 3);
    await tick();
    assert.equal(admin.requests.length, 2, 'one background refresh, not one per lookup');
    assert.equal(cache.cachedPartitionCount('t'), 5);
    assert.deepEqual(changes, [['t', 3, undefined], ['t', 5, 3]]);
    // a per-lookup max age overrides the cache's
    advance(500);
    assert.equal(cache.cachedPartitionCount('t', 100), 5);
    await tick();
    assert.equal(admin.requests.length, 3);
  });

  it('coalesces concurrent lookups of a topic into one request', async () => {
    const { admin, cache } = setup();
    admin.counts.set('a', 2);
    admin.counts.set('b', 7);
    admin.hold = true;
    const lookups = [cache.partitionCount('a'), cache.partitionCount('a'), cache.partitionCount('b'), cache.partitionCount('a')];
    await tick();
    admin.release();
    assert.deepEqual(await Promise.all(lookups), [2, 2, 7, 2]);
    assert.deepEqual(admin.requests.sort(), ['a', 'b']);
    assert.equal(admin.connects, 1, 'one admin connection for all topics');
  });

  it('refresh() asks again with a request that starts after the call, shared by concurrent refreshes', async () => {
    const { admin, cache } = setup();
    admin.counts.set('t', 3);
    await cache.partitionCount('t');
    admin.hold = true;
    const background = cache.refresh('t'); // under way, answers 3
    await tick();
    admin.counts.set('t', 4); // the topic grows while that request is out
    const r1 = cache.refresh('t');
    const r2 = cache.refresh('t');
    const r3 = cache.partitionCount('t', { refresh: true });
    admin.release();
    assert.equal(await background, 3);
    admin.hold = false;
    assert.deepEqual(await Promise.all([r1, r2, r3]), [4, 4, 4]);
    assert.equal(admin.requests.length, 3, 'initial read, the one under way, one more for the three refreshes');
  });

  it('refreshes asked for before the request went out share it', async () => {
    const { admin, cache } = setup();
    admin.counts.set('t', 3);
    const both = await Promise.all([cache.refresh('t'), cache.refresh('t'), cache.partitionCount('t')]);
    assert.deepEqual(both, [3, 3, 3]);
    assert.equal(admin.requests.length, 1);
  });

  it('observePartitionCount refreshes only when it reveals more partitions', async () => {
    const { admin, cache } = setup();
    admin.counts.set('t', 3);
    await cache.partitionCount('t');
    cache.observePartitionCount('t', 3);
    cache.observePartitionCount('t', 2);
    cache.observePartitionCount('unknown', 9);
    await tick();
    assert.equal(admin.requests.length, 1);
    admin.counts.set('t', 8);
    cache.observePartitionCount('t', 8);
    await tick();
    assert.equal(admin.requests.length, 2);
    assert.equal(cache.cachedPartitionCount('t'), 8);
  });

  it('an unknown topic fails with UnknownTopicError, remembered for the backoff', async () => {
    const { admin, cache, advance, errors } = setup({ backoff: 1_000 });
    await assert.rejects(cache.partitionCount('nope'), (e: Error) => {
      assert.ok(e instanceof UnknownTopicError);
      assert.equal(e.name, 'UnknownTopicError');
      assert.match(e.message, /Topic "nope" does not exist on the Kafka broker/);
      return true;
    });
    await assert.rejects(cache.partitionCount('nope'), UnknownTopicError);
    assert.equal(admin.requests.length, 1, 'the failure is answered from memory');
    advance(1_000);
    admin.counts.set('nope', 1); // created meanwhile
    assert.equal(await cache.partitionCount('nope'), 1);
    assert.equal(errors.length, 1);
  });

  it('a topic deleted after it was cached fails from the next lookup on', async () => {
    const { admin, cache, advance } = setup();
    admin.counts.set('t', 2);
    await cache.partitionCount('t');
    admin.counts.delete('t');
    await assert.rejects(cache.refresh('t'), UnknownTopicError);
    assert.equal(cache.cachedPartitionCount('t'), undefined);
    await assert.rejects(cache.partitionCount('t'), UnknownTopicError);
    advance(1_000);
    await assert.rejects(cache.partitionCount('t'), UnknownTopicError);
  });

  it('other failures keep the last count, name the topic and the reason, and retry after the backoff', async () => {
    const { admin, cache, advance, errors } = setup({ maxAge: 1_000, backoff: 2_000 });
    admin.counts.set('t', 4);
    await cache.partitionCount('t');
    advance(1_000);
    admin.failNext = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1'), { name: 'KafkaJSConnectionError' });
    assert.equal(cache.cachedPartitionCount('t'), 4);
    await tick();
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof TopicMetadataError);
    assert.match(errors[0].message, /Cannot read the partition count of topic "t" from the Kafka broker: Connection error: connect ECONNREFUSED/);
    // still the old count, and no new request within the backoff
    assert.equal(cache.cachedPartitionCount('t'), 4);
    await tick();
    assert.equal(admin.requests.length, 2);
    advance(2_000);
    admin.counts.set('t', 6);
    assert.equal(cache.cachedPartitionCount('t'), 4);
    await tick();
    assert.equal(cache.cachedPartitionCount('t'), 6);
  });

  it('a failed connect is tried again, and a throwing admin factory becomes a failed lookup', async () => {
    const admin = new ScriptedAdmin();
    let calls = 0;
    let now = 0;
    const cache = new TopicMetadataCache(
      () => {
        calls++;
        if (calls === 1) throw new Error('Kafka broker settings are invalid');
        return admin;
      },
      { now: () => now },
    );
    await assert.rejects(cache.partitionCount('t'), /Cannot read the partition count of topic "t" from the Kafka broker: Kafka broker settings are invalid/);
    now += 1_000;
    admin.failConnect = new Error('connect ECONNREFUSED');
    await assert.rejects(cache.partitionCount('t'), /ECONNREFUSED/);
    assert.equal(admin.disconnects, 1, 'a half-open admin is disconnected');
    now += 1_000;
    admin.failConnect = undefined;
    admin.counts.set('t', 1);
    assert.equal(await cache.partitionCount('t'), 1);
    assert.equal(calls, 3);
  });

  it('refuses illegal topic names without asking the broker', async () => {
    const { admin, cache } = setup();
    await assert.rejects(cache.partitionCount('no spaces'), /illegal/);
    await assert.rejects(cache.partitionCount(''), /empty/);
    assert.equal(admin.requests.length, 0);
  });

  it('close() disconnects once, fails later lookups, and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { admin, cache, advance } = setup({ maxAge: 10 });
      admin.counts.set('t', 2);
      await cache.partitionCount('t');
      advance(10);
      admin.hold = true;
      assert.equal(cache.cachedPartitionCount('t'), 2); // background refresh now held
      const waiting = cache.refresh('t');
      await tick();
      await cache.close();
      await cache.close();
      admin.release();
      await assert.rejects(waiting, TopicMetadataError);
      await assert.rejects(cache.partitionCount('t'), /connection is closed/);
      await assert.rejects(cache.refresh('t'), /connection is closed/);
      assert.equal(cache.cachedPartitionCount('t'), undefined);
      cache.observePartitionCount('t', 5);
      assert.equal(admin.disconnects, 1);
      assert.equal(cache.isClosed, true);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
