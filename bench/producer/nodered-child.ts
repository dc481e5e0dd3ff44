// One benchmark case inside a real, embedded Node-RED runtime (RED.init + RED.start, the
// runtime `node-red` itself runs), in its own process, forked by run.ts.
//
//   [source] ──> [producer node under test] ──> [sink]       (+ Catch, + Complete)
//
// The source is an inject node whose send() this process calls, one msg at a time, as
// fast as the runtime takes them: it yields to the event loop (setImmediate) every
// `chunk` msgs, so the runtime delivers, the node works and sockets are served between
// chunks; and it keeps at most `window` msgs outstanding (sent, not yet acknowledged or
// failed). The sink counts what the node passes on after the acknowledgement; Catch
// counts failures (no Complete node: it would clone every msg). The node's own output is the acknowledgement where it has one;
// every case is also read back from the topic by the orchestrator.
//
// Modes: throughput | lowrate | backpressure (see run.ts).
// Diagnostics: BENCH_MEM_TRACE=1 prints RSS, heap and Buffer memory every 20 ms of the
// measured window to stderr; BENCH_HEAP_SAMPLE=<ms> prints, after that many ms, where the
// objects that lived past a minor GC were allocated (V8's sampling heap profiler; <from>:<to> ms
// samples a window; BENCH_HEAP_SAMPLE_DEPTH frames per stack).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ChildMessage, type PresetId, PRESETS, pct, procStatusKb, sortedFinite, startProfile } from './common';
import { keyOf, templates, valueOf } from './records';

// 'control': a core function node that sends every measured msg to Catch, as a refusing
// producer would, and talks to no broker: what the runtime itself spends on a flood.
export type Impl = 'ours' | 'suite' | 'oriolrius' | 'kafkajs' | 'control';

export interface ChildConfig {
  mode: 'throughput' | 'lowrate' | 'backpressure';
  impl: Impl;
  preset: PresetId;
  /** what the producer node under test connects to (through toxiproxy in the latency cases) */
  brokers: string;
  /** the bench's own reads (topic offsets), straight to the broker; `brokers` if unset */
  adminBrokers?: string;
  topic: string;
  userDir: string;
  /** records measured, after `warmup` warm-up records (seq 0..warmup-1) */
  records: number;
  warmup: number;
  window: number;
  chunk: number;
  /** file to write the send time (epoch ms) of each seq to, Float64 little-endian */
  sendTimesFile: string;
  /** file to write each seq's outcome to: 0 none, 1 acknowledged, 2 BufferExhaustedError, 3 other failure (Uint8) */
  statusFile: string;
  /** lowrate: msgs per second */
  rate?: number;
  /** our node: max.block.ms (backpressure) */
  maxBlockMs?: number;
  /** give up waiting for acknowledgements after this long */
  timeoutMs: number;
}

const cfg: ChildConfig = JSON.parse(process.env.BENCH_CHILD_CONFIG ?? '{}');


function send(m: ChildMessage): void {
  process.send?.(m);
}

function waitParent(type: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type === type) {
        process.off('message', on);
        resolve();
      }
    };
    process.on('message', on);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise<void>((r) => setImmediate(r));

function flow(): Array<Record<string, unknown>> {
  const p = PRESETS[cfg.preset];
  const tab = { id: 'tab', type: 'tab', label: 'bench' };
  // Every node has x/y: without them the runtime takes a node for a config node.
  const common = [
    tab,
    { id: 'src', type: 'inject', z: 'tab', name: 'source', props: [], repeat: '', once: false, x: 100, y: 100, wires: [['dut']] },
    { id: 'sink', type: 'debug', z: 'tab', name: 'acks', active: false, tosidebar: false, console: false, complete: 'false', x: 500, y: 100, wires: [] },
    { id: 'catch1', type: 'catch', z: 'tab', name: '', scope: ['dut'], uncaught: false, x: 100, y: 200, wires: [['caught']] },
    { id: 'caught', type: 'debug', z: 'tab', name: 'errors', active: false, tosidebar: false, console: false, complete: 'false', x: 300, y: 200, wires: [] },
    // No Complete node: the runtime deep-clones every msg for each Complete node in scope,
    // a cost that would be charged to the node under test.
  ];
  const at = { x: 300, y: 100 };
  switch (cfg.impl) {
    case 'control':
      return [
        ...common,
        {
          id: 'dut', type: 'function', z: 'tab', name: 'refuse every msg', ...at, outputs: 1, noerr: 0, initialize: '', finalize: '', libs: [],
          func: `if (msg._seq < ${cfg.warmup}) { msg.kafka = { acknowledged: true }; return msg; }\n` +
            "const e = new Error('refused by the control'); e.name = 'BufferExhaustedError'; node.error(e, msg); return null;",
          wires: [['sink']],
        },
      ];
    case 'ours':
      return [
        ...common,
        { id: 'b1', type: 'streamsafe-kafka-broker', name: '', brokers: cfg.brokers, clientId: 'bench-ours', connectionTimeout: '10000', requestTimeout: '30000', usetls: false, saslMechanism: 'none' },
        {
          id: 'dut', type: 'streamsafe-kafka-producer', z: 'tab', name: '', ...at, broker: 'b1', topic: cfg.topic,
          preset: p.id, acks: 'all', idempotence: true, retries: '2147483647', retryBackoffMs: '100', retryBackoffMaxMs: '1000',
          requestTimeoutMs: '30000', deliveryTimeoutMs: '120000', maxInFlight: '5', compression: p.compression,
          lingerMs: String(p.lingerMs), batchSize: String(p.batchSize), bufferMemory: '33554432',
          maxBlockMs: String(cfg.maxBlockMs ?? 60000), maxRequestSize: '1048576', metricsInterval: '1',
          wires: [['sink'], ['metrics']],
        },
        // The node's Java-named producer metrics, once a second on its second output.
        { id: 'metrics', type: 'debug', z: 'tab', name: 'metrics', active: false, tosidebar: false, console: false, complete: 'false', x: 500, y: 160, wires: [] },
      ];
    case 'suite':
      return [
        ...common,
        { id: 'b1', type: 'kafka-suite-broker', name: '', brokers: cfg.brokers, clientId: 'bench-suite', backend: 'kafkajs', servicePreset: 'self-hosted', authType: 'none', logLevel: 'warn', connectionTimeout: 3000, requestTimeout: 30000, maxRetryTime: 30000, initialRetryTime: 300, retries: 5, sslRejectUnauthorized: true },
        { id: 'dut', type: 'kafka-suite-producer', z: 'tab', name: '', ...at, broker: 'b1', topic: cfg.topic, key: '', partition: '', compression: p.compression, acks: '-1', timeout: 30000, schemaRegistry: '', wires: [['sink']] },
      ];
    case 'oriolrius':
      return [
        ...common,
        { id: 'b1', type: 'oriolrius-kafka-broker', name: '', hosts: cfg.brokers, usesasl: false, usetls: false, useiot: false },
        // requireAcks 1 (the editor default) makes it idempotent; attributes 3 = LZ4.
        { id: 'dut', type: 'oriolrius-kafka-producer', z: 'tab', name: '', ...at, broker: 'b1', topic: cfg.topic, requireAcks: 1, ackTimeoutMs: 100, attributes: p.compression === 'lz4' ? 3 : 0, useSchemaValidation: false, useiot: false, wires: [['sink']] },
      ];
    case 'kafkajs':
      return [
        ...common,
        { id: 'b1', type: 'kafkajs-client', name: '', brokers: cfg.brokers, clientid: 'bench-kafkajs', logLevel: 'error', connectiontimeout: '10000', requesttimeout: '30000', auth: 'none' },
        { id: 'dut', type: 'kafkajs-producer', z: 'tab', name: '', ...at, client: 'b1', topic: cfg.topic, advancedoptions: false, acknowledge: 'all', partition: null, headeritems: {}, key: null, responsetimeout: 30000, transactiontimeout: 60000, metadatamaxage: 300000, allowautotopiccreation: false, wires: [] },
      ];
  }
}

async function main(): Promise<void> {
  const total = cfg.warmup + cfg.records;
  const t = templates();
  fs.writeFileSync(path.join(cfg.userDir, 'flows.json'), JSON.stringify(flow()));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  RED.init(http.createServer(), {
    userDir: cfg.userDir,
    flowFile: 'flows.json',
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    logging: { console: { level: cfg.mode === 'backpressure' ? 'error' : 'warn', metrics: false, audit: false } },
    editorTheme: { tours: false },
    telemetry: { enabled: false },
  });
  await RED.start();
  let src: any, dut: any, sink: any, caught: any;
  for (let i = 0; i < 400; i++) {
    src = RED.nodes.getNode('src');
    dut = RED.nodes.getNode('dut');
    sink = RED.nodes.getNode('sink');
    caught = RED.nodes.getNode('caught');
    if (src && dut && sink && caught) break;
    await sleep(25);
  }
  if (!dut) throw new Error(`the ${cfg.impl} producer node did not start (type not installed?)`);

  const sentAt = new Float64Array(total).fill(NaN); // performance.now()
  const sentEpoch = new Float64Array(total).fill(NaN); // Date.now()
  const ackLatency = new Float64Array(total).fill(NaN);
  const status = new Uint8Array(total);
  let acked = 0;
  let failed = 0;
  let lastAckAt = 0;
  const errorNames = new Map<string, number>();
  const errorSamples: Record<string, { seq: unknown; stack: string; seqs: unknown[]; atMs: number[] }> = {};
  let pushStart = performance.now();
  let firstError = '';
  let waiter: (() => void) | undefined;
  const wake = () => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w();
    }
  };
  sink.on('input', (msg: any) => {
    const seq = msg._seq;
    if (typeof seq !== 'number') return;
    const now = performance.now();
    // Our node and kafka-suite put the acknowledgement on msg.kafka; oriolrius replaces the payload.
    if ((cfg.impl === 'ours' || cfg.impl === 'control') && !(msg.kafka && msg.kafka.acknowledged)) return;
    ackLatency[seq] = now - sentAt[seq];
    status[seq] = 1;
    acked++;
    lastAckAt = now;
    wake();
  });
  caught.on('input', (msg: any) => {
    failed++;
    // Node-RED puts String(err) ("Name: message") in msg.error.message; numbers vary per record.
    const text = String(msg?.error?.message ?? msg?.message ?? msg);
    if (typeof msg?._seq === 'number') status[msg._seq] = text.startsWith('BufferExhaustedError') ? 2 : 3;
    const key = text.replace(/\d+/g, 'N').slice(0, 160);
    if (!errorNames.has(key)) errorSamples[key] = { seq: msg?._seq, stack: String(msg?.error?.stack ?? '').split('\n').slice(0, 12).join('\n'), seqs: [], atMs: [] };
    const sample = errorSamples[key];
    if (sample.seqs.length < 20) {
      sample.seqs.push(msg?._seq);
      sample.atMs.push(Math.round(performance.now() - pushStart));
    }
    errorNames.set(key, (errorNames.get(key) ?? 0) + 1);
    if (!firstError) firstError = text;
    wake();
  });

  let lastMetrics: Record<string, number> | undefined;
  RED.nodes.getNode('metrics')?.on('input', (msg: any) => {
    if (msg?.payload && typeof msg.payload === 'object') lastMetrics = msg.payload;
  });

  const makeMsg = (seq: number) => ({ _seq: seq, key: keyOf(seq, t), payload: valueOf(seq, t) });
  const sendOne = (seq: number) => {
    sentEpoch[seq] = Date.now();
    sentAt[seq] = performance.now();
    src.send(makeMsg(seq));
  };
  const settled = () => acked + failed;

  // Wait until the node says it can take msgs (the other nodes drop msgs before that).
  const readyDeadline = Date.now() + 60_000;
  const isReady = () => {
    switch (cfg.impl) {
      case 'ours':
      case 'control':
        return true; // it takes msgs at once; they wait for the connection
      case 'suite':
        return !!dut.producer;
      case 'oriolrius':
      case 'kafkajs':
        return !!dut.ready;
    }
  };
  while (!isReady()) {
    if (Date.now() > readyDeadline) throw new Error(`${cfg.impl}: producer not ready after 60 s`);
    await sleep(50);
  }

  // For the node that reports no acknowledgement: the topic's offsets tell what arrived.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const admin = new Kafka({ brokers: (cfg.adminBrokers ?? cfg.brokers).split(','), clientId: 'bench-offsets', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const inTopic = async () => (await admin.fetchTopicOffsets(cfg.topic)).reduce((n, p) => n + Number(p.high), 0);
  const noAcks = cfg.impl === 'kafkajs';

  const waitSettled = async (target: number, deadline: number): Promise<boolean> => {
    if (noAcks) {
      for (;;) {
        const n = await inTopic();
        if (n >= target) {
          lastAckAt = performance.now();
          return true;
        }
        if (Date.now() > deadline) return false;
        await sleep(20);
      }
    }
    while (settled() < target) {
      if (Date.now() > deadline) return false;
      await new Promise<void>((r) => {
        waiter = r;
        setTimeout(r, 200);
      });
    }
    return true;
  };

  // Warm-up: seq 0..warmup-1, sent and settled before the measured window.
  for (let seq = 0; seq < cfg.warmup; seq++) {
    sendOne(seq);
    if ((seq + 1) % cfg.chunk === 0) await tick();
  }
  if (!(await waitSettled(cfg.warmup, Date.now() + 60_000))) throw new Error(`${cfg.impl}: warm-up not acknowledged within 60 s (acked ${acked}, failed ${failed})`);
  if (failed) throw new Error(`${cfg.impl}: warm-up failed: ${firstError}`);

  send({ type: 'ready' });
  await waitParent('go');
  (globalThis as any).gc?.();
  const rssBefore = procStatusKb('self', 'VmRSS');
  const memBefore = process.memoryUsage();
  let peakRss = rssBefore;
  const trace = process.env.BENCH_MEM_TRACE ? [] as string[] : undefined;
  const rssTimer = setInterval(() => {
    const r = procStatusKb('self', 'VmRSS');
    if (r > peakRss) peakRss = r;
    if (trace && trace.length < 400) {
      const m = process.memoryUsage();
      trace.push(`${Math.round(performance.now() - pushStart)}ms rss ${Math.round(r / 1024)} heapUsed ${Math.round(m.heapUsed / 2 ** 20)} heapTotal ${Math.round(m.heapTotal / 2 ** 20)} ext ${Math.round(m.external / 2 ** 20)} ab ${Math.round(m.arrayBuffers / 2 ** 20)} acked ${acked} failed ${failed}`);
      if (trace.length % 10 === 0) process.stderr.write(trace.slice(-10).join('\n') + '\n');
    }
  }, 20);

  const profiler = await startProfile();
  if (process.env.BENCH_HEAP_SAMPLE) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const inspector = require('node:inspector') as typeof import('node:inspector');
    const session = new inspector.Session();
    session.connect();
    const post = (method: string, params?: object) =>
      new Promise<any>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
    await post('HeapProfiler.enable');
    // BENCH_HEAP_SAMPLE=<ms> or <from ms>:<to ms> after the push began
    const [fromMs, toMs] = process.env.BENCH_HEAP_SAMPLE.includes(':') ? process.env.BENCH_HEAP_SAMPLE.split(':').map(Number) : [0, Number(process.env.BENCH_HEAP_SAMPLE)];
    setTimeout(() => void post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true }), fromMs);
    setTimeout(async () => {
      const { profile } = await post('HeapProfiler.stopSampling');
      const by = new Map<string, number>();
      const walk = (n: any, stack: string[]) => {
        const here = `${n.callFrame.functionName || '(anon)'} ${String(n.callFrame.url).split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
        const st = [...stack, here];
        const depth = Number(process.env.BENCH_HEAP_SAMPLE_DEPTH ?? 4);
        if (n.selfSize) by.set(st.slice(-depth).join(' < '), (by.get(st.slice(-depth).join(' < ')) ?? 0) + n.selfSize);
        for (const c of n.children ?? []) walk(c, st);
      };
      walk(profile.head, []);
      const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 25);
      process.stderr.write('HEAPSAMPLE\n' + top.map(([k, v]) => `${(v / 2 ** 20).toFixed(1)} MB  ${k}`).join('\n') + '\n');
    }, toMs);
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  pushStart = t0;
  send({ type: 'window', edge: 'start' });

  let pushedAt = t0;
  if (cfg.mode === 'lowrate') {
    const every = 1000 / (cfg.rate ?? 100);
    for (let i = 0; i < cfg.records; i++) {
      const due = t0 + i * every;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sendOne(cfg.warmup + i);
    }
  } else {
    const window = cfg.mode === 'backpressure' ? Infinity : cfg.window;
    let seq = cfg.warmup;
    while (seq < total) {
      const end = Math.min(total, seq + cfg.chunk);
      for (; seq < end; seq++) sendOne(seq);
      await tick();
      while (!noAcks && seq - acked - failed >= window) {
        await new Promise<void>((r) => {
          waiter = r;
          setTimeout(r, 50);
        });
      }
    }
    pushedAt = performance.now();
  }
  const pushMs = pushedAt - t0;

  let complete: boolean;
  let extra: Record<string, unknown> = {};
  if (cfg.mode === 'backpressure') {
    // The broker is down: what fits in buffer.memory is accepted, the rest fails after
    // max.block.ms. Wait until failures stop, report, then the parent restarts the broker.
    let lastFailed = -1;
    let stableSince = performance.now();
    let memWhileBlocked: NodeJS.MemoryUsage | undefined;
    const blockedProbe = setTimeout(() => {
      (globalThis as any).gc?.();
      memWhileBlocked = process.memoryUsage();
    }, Math.max(0, (cfg.maxBlockMs ?? 60000) - 1000 - (performance.now() - t0)));
    const deadline = Date.now() + (cfg.maxBlockMs ?? 60000) + 60_000;
    while (Date.now() < deadline) {
      await sleep(250);
      if (failed !== lastFailed) {
        lastFailed = failed;
        stableSince = performance.now();
      } else if (failed > 0 && performance.now() - stableSince > 3000 && performance.now() - pushedAt > (cfg.maxBlockMs ?? 60000)) break;
    }
    // Memory held while the excess waits (sampled just before it fails), and after a GC once it failed.
    const memMb = (m: NodeJS.MemoryUsage) => ({ heapUsed: m.heapUsed / 2 ** 20, external: m.external / 2 ** 20, arrayBuffers: m.arrayBuffers / 2 ** 20 });
    clearTimeout(blockedProbe);
    (globalThis as any).gc?.();
    const outage = {
      memBeforeMb: memMb(memBefore),
      memWhileBlockedMb: memWhileBlocked ? memMb(memWhileBlocked) : undefined,
      memAfterFailMb: memMb(process.memoryUsage()),
      pushed: cfg.records,
      failedDuringOutage: failed,
      ackedDuringOutage: acked - cfg.warmup,
      peakRssMb: peakRss / 1024,
      rssBeforeMb: rssBefore / 1024,
      rssAfterFailMb: procStatusKb('self', 'VmRSS') / 1024,
      pushMs,
      errors: Object.fromEntries(errorNames),
      errorSamples,
      firstError,
    };
    send({ type: 'progress', text: JSON.stringify(outage) });
    send({ type: 'result', result: { phase: 'outage', ...outage } });
    await waitParent('broker-back');
    const back = performance.now();
    complete = await waitSettled(total, Date.now() + cfg.timeoutMs);
    extra = { outage, recoverMs: lastAckAt - back };
  } else {
    complete = await waitSettled(total, Date.now() + cfg.timeoutMs);
  }
  const t1 = cfg.mode === 'backpressure' ? performance.now() : lastAckAt || performance.now();
  const cpu = process.cpuUsage(cpu0);
  send({ type: 'window', edge: 'end' });
  clearInterval(rssTimer);
  await profiler?.();

  const lat = sortedFinite(ackLatency, cfg.warmup, total);
  const elapsedMs = t1 - t0;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  // Send times for the read-back's send → log-append latency.
  fs.writeFileSync(cfg.sendTimesFile, Buffer.from(sentEpoch.buffer));
  fs.writeFileSync(cfg.statusFile, status);
  const result = {
    phase: 'done',
    complete,
    records: cfg.records,
    elapsedMs,
    pushMs,
    recordsPerSec: (cfg.records * 1000) / elapsedMs,
    acked: noAcks ? null : acked - cfg.warmup,
    failed,
    ackP50Ms: pct(lat, 0.5),
    ackP99Ms: pct(lat, 0.99),
    ackMaxMs: lat.length ? lat[lat.length - 1] : NaN,
    cpuMs,
    cpuPct: (cpuMs / elapsedMs) * 100,
    peakRssMb: procStatusKb('self', 'VmHWM') / 1024,
    windowPeakRssMb: peakRss / 1024,
    rssBeforeMb: rssBefore / 1024,
    errors: Object.fromEntries(errorNames),
    firstError,
    errorSamples,
    nodeMetrics: lastMetrics,
    ...extra,
  };
  send({ type: 'result', result });
  await admin.disconnect().catch(() => {});
  // Stop the runtime: nodes close (ours flushes); bounded.
  await Promise.race([RED.stop(), sleep(20_000)]);
}

main().then(
  () => setTimeout(() => process.exit(0), 100),
  (err) => {
    send({ type: 'error', message: String(err?.stack ?? err) });
    setTimeout(() => process.exit(1), 100);
  },
);
