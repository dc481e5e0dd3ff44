// The handover of held records across a redeploy: fingerprints decide adopt /
// drain / fail; relays keep outcomes in order while no instance runs; the registry
// waits a bounded time and gives up what nobody claims.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/common/clock';
import { defaultProducerOptions } from '../../src/lib/kafka/producer/config';
import {
  engineIdentity,
  HandoverRegistry,
  OutcomeRelay,
  planHandover,
  pruneDrained,
  relaysOf,
  type AbandonReason,
  type Lineage,
} from '../../src/lib/kafka/producer/handover';
import type { ConnectionSettings } from '../../src/lib/kafka/protocol/kafkajs';

const base: ConnectionSettings = { brokers: ['a:9092', 'b:9092'], clientId: 'c', connectionTimeoutMs: 1000, requestTimeoutMs: 30000 };
const opts = defaultProducerOptions();

test('same cluster, connection and options: adopt; other options or timeouts: drain; other brokers or security: fail', () => {
  const id = engineIdentity(base, opts);
  assert.equal(planHandover(id, engineIdentity({ ...base, brokers: ['b:9092', 'A:9092'], log: () => {} }, { ...opts })), 'adopt', 'order, case and the log sink do not matter');
  assert.equal(planHandover(id, engineIdentity(base, { ...opts, lingerMs: 50 })), 'drain');
  assert.equal(planHandover(id, engineIdentity({ ...base, clientId: 'other' }, opts)), 'drain');
  assert.equal(planHandover(id, engineIdentity({ ...base, requestTimeoutMs: 5000 }, opts)), 'drain');
  assert.equal(planHandover(id, engineIdentity({ ...base, brokers: ['a:9092'] }, opts)), 'fail');
  assert.equal(planHandover(id, engineIdentity({ ...base, ssl: true }, opts)), 'fail');
  const sasl = (password: string) => engineIdentity({ ...base, sasl: { mechanism: 'scram-sha-512', username: 'u', password } as never }, opts);
  assert.equal(planHandover(sasl('p1'), sasl('p1')), 'adopt');
  assert.equal(planHandover(sasl('p1'), sasl('p2')), 'fail', 'other credentials: another principal');
  const tls = (ca: string) => engineIdentity({ ...base, ssl: { ca: [Buffer.from(ca)], rejectUnauthorized: true } }, opts);
  assert.equal(planHandover(tls('ca-1'), tls('ca-1')), 'adopt', 'TLS material compares by value');
  assert.equal(planHandover(tls('ca-1'), tls('ca-2')), 'fail');
  assert.ok(!JSON.stringify(sasl('secret-password')).includes('secret-password'), 'no secret in clear');
});

test('a relay forwards in order, keeps outcomes in order while detached, and replays them to the next sink first', () => {
  const relay = new OutcomeRelay<string>();
  const seen: string[] = [];
  const sink = (name: string) => ({ acknowledged: (i: string) => seen.push(`${name} ok ${i}`), failed: (i: string, e: Error) => seen.push(`${name} fail ${i} ${e.message}`) });
  relay.attach(sink('A'));
  relay.acknowledged('1');
  relay.detach();
  relay.failed('2', new Error('x'));
  relay.acknowledged('3');
  assert.equal(relay.buffered, 2);
  relay.attach(sink('B'));
  relay.acknowledged('4');
  assert.deepEqual(seen, ['A ok 1', 'B fail 2 x', 'B ok 3', 'B ok 4']);
  assert.equal(relay.buffered, 0);
});

test('a sink that throws does not stop the relay: the error is reported and later outcomes still go', () => {
  const errors: unknown[] = [];
  const relay = new OutcomeRelay<number>((e) => errors.push(e));
  const got: number[] = [];
  relay.attach({ acknowledged: (i) => (i === 2 ? (() => { throw new Error('sink bug'); })() : got.push(i)), failed: () => {} });
  for (const i of [1, 2, 3]) relay.acknowledged(i);
  assert.deepEqual(got, [1, 3]);
  assert.equal(errors.length, 1);
});

function registry() {
  const clock = new ManualClock();
  const r = new HandoverRegistry<string>(clock);
  const given: Array<[string, AbandonReason]> = [];
  return { clock, r, given, park: (id: string, l: string, ms = 30_000) => r.park(id, l, ms, (x, why) => given.push([x, why])) };
}

test('registry: a parked lineage is claimed once by the next instance, and its timer goes with it', () => {
  const { clock, r, given, park } = registry();
  park('n1', 'L1');
  assert.equal(r.claim('n2'), undefined);
  assert.equal(r.claim('n1'), 'L1');
  assert.equal(r.claim('n1'), undefined, 'once');
  assert.equal(clock.pending(), 0);
  clock.advance(60_000);
  assert.deepEqual(given, []);
});

test('registry: unclaimed within the bound, or when the flows start without it or stop, it is given up with the reason', () => {
  const { clock, r, given, park } = registry();
  park('n1', 'L1', 5000);
  clock.advance(4999);
  assert.deepEqual(given, []);
  clock.advance(1);
  assert.deepEqual(given, [['L1', 'timeout']]);
  park('n2', 'L2');
  park('n3', 'L3');
  r.abandonAll('notRedeployed');
  assert.deepEqual(given.slice(1), [['L2', 'notRedeployed'], ['L3', 'notRedeployed']]);
  assert.equal(r.size, 0);
  assert.equal(clock.pending(), 0);
  park('n4', 'L4');
  park('n4', 'L5'); // the same node closing twice without a claim in between: the first is given up
  assert.deepEqual(given.slice(3), [['L4', 'timeout']]);
  r.abandonAll('stopped');
  assert.deepEqual(given.slice(4), [['L5', 'stopped']]);
});

test('a lineage forgets a draining producer only once it ended and its outcomes were passed on', () => {
  const relay = new OutcomeRelay<string>();
  const drainingRelay = new OutcomeRelay<string>();
  const l: Lineage<string, string> = {
    identity: engineIdentity(base, opts),
    engine: 'E2',
    relay,
    draining: new Map([['E1', { relay: drainingRelay, closed: Promise.resolve() }]]),
  };
  drainingRelay.acknowledged('r1'); // while no instance runs
  drainingRelay.ended = true;
  pruneDrained(l);
  assert.equal(l.draining.size, 1, 'an outcome still waits for the next instance');
  assert.equal(relaysOf(l).length, 2);
  const got: string[] = [];
  for (const r of relaysOf(l)) r.attach({ acknowledged: (i) => got.push(i), failed: () => {} });
  pruneDrained(l);
  assert.deepEqual(got, ['r1']);
  assert.equal(l.draining.size, 0);
});
