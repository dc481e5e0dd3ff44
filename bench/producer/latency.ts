// The producer benchmark's network cases: the broker straight over loopback, or N ms away
// each way through toxiproxy. On loopback a request costs almost nothing, which flatters a
// producer that sends one request per msg; a real broker is a network hop away.
//
// How the broker is put "away": each broker gets a second listener, PROXIED, advertised at
// the address of a toxiproxy proxy that forwards to it with a `latency` toxic on both
// directions. A client that bootstraps from the proxy gets the proxy's address back in every
// metadata response, so all its connections cross the delay; the PLAINTEXT listener (admin,
// topic set-up, read-back, inter-broker) and the CONTROLLER listener stay direct.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { KafkaHandle } from '../../test/support/kafka';
import { freePorts } from '../../test/support/kafka/ports';
import { startToxiproxy, type Toxiproxy } from '../support/toxiproxy';

const LISTENER = 'PROXIED';

/** One network case: how far the broker is from the client under test. */
export interface NetCase {
  /** delay added each way, ms */
  latencyMs: number;
  /** through toxiproxy (false: straight over loopback, latencyMs 0) */
  proxied: boolean;
}

/**
 * `--latency=0,1`: 0 is loopback; N > 0 is the broker N ms away each way; `0p` is the proxy
 * with no delay (what the proxy itself costs, apart from the delay).
 */
export function parseNetCases(spec: string): NetCase[] {
  const out: NetCase[] = [];
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(p?)$/.exec(item);
    if (!m) throw new Error(`--latency: "${item}" is not whole milliseconds (0 = loopback, N = N ms each way through toxiproxy, 0p = toxiproxy without delay)`);
    const c: NetCase = { latencyMs: Number(m[1]), proxied: Number(m[1]) > 0 || m[2] === 'p' };
    if (!out.some((o) => sameNet(o, c))) out.push(c);
  }
  if (!out.length) throw new Error('--latency: no case given');
  return out;
}

export function sameNet(a: NetCase, b: NetCase): boolean {
  return a.latencyMs === b.latencyMs && a.proxied === b.proxied;
}

export function isLoopback(c: NetCase): boolean {
  return !c.proxied;
}

/** 'loopback', 'broker 1 ms away each way', 'through toxiproxy, no delay' */
export function netLabel(c: NetCase): string {
  if (!c.proxied) return 'loopback';
  return c.latencyMs ? `broker ${c.latencyMs} ms away each way` : 'through toxiproxy, no delay';
}

/** Short tag for topic names and logs: '', '1ms', '0ms-proxied' */
export function netTag(c: NetCase): string {
  if (!c.proxied) return '';
  return c.latencyMs ? `${c.latencyMs}ms` : '0ms-proxied';
}

/** The brokers behind toxiproxy. */
export interface ProxiedKafka {
  toxiproxy: Toxiproxy;
  /** one proxy per broker, index i = broker i */
  proxies: string[];
  /** 'host:port' of each broker's proxy: the bootstrap list of a client under test */
  brokers: string[];
  /** Sets the delay of every proxy, each way. */
  setLatency(ms: number): Promise<void>;
  /** Bytes all proxies forwarded so far (client → broker, broker → client). */
  bytes(): Promise<{ upstream: number; downstream: number }>;
}

/** Appends `item` to the comma list of `key` in a server.properties text. */
function appendToList(props: string, key: string, item: string): string {
  const re = new RegExp(`^${key.replace(/\./g, '\\.')}=(.*)$`, 'm');
  const m = re.exec(props);
  if (!m) throw new Error(`server.properties has no ${key}`);
  return props.replace(re, `${key}=${m[1]},${item}`);
}

/**
 * Puts every broker of `kafka` behind a toxiproxy proxy (no delay yet). Kafka cannot add a
 * listener to a running KRaft broker (listeners are read-only there), so each broker is
 * stopped, its server.properties (written by startKafka) gets the PROXIED listener, and it
 * is started again. Call before anything else uses the brokers; re-read broker pids after.
 */
export async function putBehindToxiproxy(kafka: KafkaHandle, log: (text: string) => void, logFile?: string): Promise<ProxiedKafka> {
  const toxiproxy = await startToxiproxy({ log, logFile });
  try {
    const proxies: string[] = [];
    const brokers: string[] = [];
    for (let i = 0; i < kafka.brokers.length; i++) {
      const [listenerPort] = await freePorts(1);
      const proxy = await toxiproxy.createProxy(`broker-${i + 1}`, `127.0.0.1:${listenerPort}`);
      const propsFile = path.join(kafka.dir, `node-${i + 1}`, 'server.properties');
      let props = fs.readFileSync(propsFile, 'utf8');
      props = appendToList(props, 'listeners', `${LISTENER}://127.0.0.1:${listenerPort}`);
      props = appendToList(props, 'advertised.listeners', `${LISTENER}://${proxy.listen}`);
      props = appendToList(props, 'listener.security.protocol.map', `${LISTENER}:PLAINTEXT`);
      await kafka.stopBroker(i);
      fs.writeFileSync(propsFile, props);
      await kafka.startBroker(i);
      proxies.push(proxy.name);
      brokers.push(proxy.listen);
    }
    return {
      toxiproxy,
      proxies,
      brokers,
      async setLatency(ms) {
        for (const p of proxies) await toxiproxy.setLatency(p, ms);
      },
      async bytes() {
        const all = await toxiproxy.bytes();
        const sum = { upstream: 0, downstream: 0 };
        for (const p of proxies) {
          sum.upstream += all[p]?.upstream ?? 0;
          sum.downstream += all[p]?.downstream ?? 0;
        }
        return sum;
      },
    };
  } catch (e) {
    await toxiproxy.stop();
    throw e;
  }
}

export interface RoundTrip {
  latencyMs: number;
  proxied: boolean;
  /** produce round trip (one record, acks all), ms */
  p50Ms: number;
  p90Ms: number;
  minMs: number;
  sends: number;
  /** the brokers the cluster metadata named to this client: the proxies' addresses when proxied */
  advertised: string[];
}

/**
 * Times `sends` produce requests of one record each (acks all, one at a time, partition 0)
 * from a kafkajs client bootstrapped from `brokers`, after a few untimed ones that open the
 * connections. A broker N ms away each way should add 2N ms.
 */
export async function produceRoundTrip(brokers: string[], topic: string, net: NetCase, sends = 50): Promise<RoundTrip> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const kafka = new Kafka({ brokers, clientId: 'bench-rtt', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    const cluster = await admin.describeCluster();
    const advertised = cluster.brokers.map((b) => `${b.host}:${b.port}`);
    const send = () => producer.send({ topic, acks: -1, messages: [{ partition: 0, key: 'rtt', value: 'x' }] });
    for (let i = 0; i < 5; i++) await send();
    const ms: number[] = [];
    for (let i = 0; i < sends; i++) {
      const t0 = performance.now();
      await send();
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)];
    return { latencyMs: net.latencyMs, proxied: net.proxied, p50Ms: at(0.5), p90Ms: at(0.9), minMs: ms[0], sends, advertised };
  } finally {
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  }
}
