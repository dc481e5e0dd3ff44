// One consumer case inside a real, embedded Node-RED runtime (RED.init + RED.start, the
// runtime `node-red` itself runs), in its own process, forked by bench/consumer/run.ts.
//
//   [consumer node under test] ──> [end of the flow, counting]
//
// The end of the flow is our `streamsafe-kafka-commit` node (at-least-once: a msg is
// finished there) or a debug node (every other case); the bench adds an input listener to
// it that counts msgs and notes the time of the first and the last. The runtime starts
// with the flow deployed, so the consumer joins its (fresh) group and reads the topic from
// the beginning at once; the child stops when `records` msgs have arrived, or when none
// arrived for `idleMs`, or at `maxMs`, and reports first → last.
//
// Self-contained (no imports of bench files): run.ts transpiles it to plain JavaScript.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

export type ConsumerImpl = 'ours' | 'ours-wide' | 'ours-periodic' | 'suite' | 'oriolrius' | 'kafkajs' | 'kafka-client' | 'kafka-manager' | 'rdkafka';

export interface ConsumerChildConfig {
  impl: ConsumerImpl;
  brokers: string;
  topic: string;
  groupId: string;
  userDir: string;
  /** records in the topic: the run ends when this many msgs reached the end of the flow */
  records: number;
  /** give up when no msg arrived for this long (after the first, or from the start) */
  idleMs: number;
  /** give up after this long in all */
  maxMs: number;
  /** our node: at most this many msgs outstanding (0: the node's default) */
  maxOutstanding: number;
}

const cfg: ConsumerChildConfig = JSON.parse(process.env.BENCH_CHILD_CONFIG ?? '{}');
const send = (m: unknown) => process.send?.(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function vmKb(field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

function flow(): Array<Record<string, unknown>> {
  const tab = { id: 'tab', type: 'tab', label: 'bench' };
  // Every node has x/y: without them the runtime takes a node for a config node.
  const sink = { id: 'end', type: 'debug', z: 'tab', name: 'count', active: false, tosidebar: false, console: false, complete: 'false', x: 500, y: 100, wires: [] };
  const at = { x: 200, y: 100 };
  switch (cfg.impl) {
    case 'ours':
    case 'ours-wide':
    case 'ours-periodic': {
      const atLeastOnce = cfg.impl !== 'ours-periodic';
      return [
        tab,
        { id: 'b1', type: 'streamsafe-kafka-broker', name: '', brokers: cfg.brokers, clientId: 'bench-consumer-ours', connectionTimeout: '10000', requestTimeout: '30000', usetls: false, saslMechanism: 'none' },
        {
          id: 'dut', type: 'streamsafe-kafka-consumer', z: 'tab', name: '', ...at, broker: 'b1', topics: cfg.topic, topicsType: 'list', groupId: cfg.groupId,
          start: 'earliest', payloadFormat: 'buffer',
          // 0: the node's default (not set in the flow, as a new node in the editor)
          ...(cfg.maxOutstanding ? { maxOutstanding: String(cfg.maxOutstanding) } : {}),
          commitMode: atLeastOnce ? 'atLeastOnce' : 'periodic', finishOn: 'commitNode',
          wires: [['end']],
        },
        // At least once: the msg is finished (and its offset becomes committable) at the commit node.
        atLeastOnce ? { id: 'end', type: 'streamsafe-kafka-commit', z: 'tab', name: '', x: 500, y: 100, wires: [] } : sink,
      ];
    }
    case 'suite':
      return [
        tab,
        { id: 'b1', type: 'kafka-suite-broker', name: '', brokers: cfg.brokers, clientId: 'bench-suite', backend: 'kafkajs', servicePreset: 'self-hosted', authType: 'none', logLevel: 'warn', connectionTimeout: 3000, requestTimeout: 30000, maxRetryTime: 30000, initialRetryTime: 300, retries: 5, sslRejectUnauthorized: true },
        { id: 'dut', type: 'kafka-suite-consumer', z: 'tab', name: '', ...at, broker: 'b1', topics: cfg.topic, groupId: cfg.groupId, startOffset: 'earliest', autoCommit: true, autoCommitInterval: 5000, messageFormat: 'raw', concurrency: 1, schemaRegistry: '', wires: [['end']] },
        sink,
      ];
    case 'oriolrius':
      return [
        tab,
        { id: 'b1', type: 'oriolrius-kafka-broker', name: '', hosts: cfg.brokers, usesasl: false, usetls: false, useiot: false },
        // No setting for a raw payload: it JSON.parses every value (the encoding is only the text's).
        { id: 'dut', type: 'oriolrius-kafka-consumer', z: 'tab', name: '', ...at, broker: 'b1', topic: cfg.topic, groupid: cfg.groupId, fromOffset: 'earliest', outOfRangeOffset: 'earliest', minbytes: 1, maxbytes: 1048576, encoding: 'utf8', useSchemaValidation: false, wires: [['end']] },
        sink,
      ];
    case 'kafkajs':
      return [
        tab,
        { id: 'b1', type: 'kafkajs-client', name: '', brokers: cfg.brokers, clientid: 'bench-kafkajs', logLevel: 'error', connectiontimeout: '10000', requesttimeout: '30000', auth: 'none' },
        // fromBeginning is an advanced option: the editor's defaults for the others.
        {
          id: 'dut', type: 'kafkajs-consumer', z: 'tab', name: '', ...at, client: 'b1', groupid: cfg.groupId, topic: cfg.topic, advancedoptions: true,
          autocommitinterval: 5000, autocommitthreshold: 100, sessiontimeout: 30000, rebalancetimeout: 60000, heartbeatinterval: 3000, metadatamaxage: 300000,
          maxbytesperpartition: 1048576, minbytes: 1, maxbytes: 10485760, maxwaittimeinms: 5000, frombeginning: true, clearoffsets: false, allowautotopiccreation: false,
          wires: [['end']],
        },
        sink,
      ];
    case 'kafka-client':
      return [
        tab,
        { id: 'b1', type: 'kafka-broker', name: '', hosts: cfg.brokers, usetls: false },
        { id: 'dut', type: 'kafka-consumer', z: 'tab', name: '', ...at, broker: 'b1', topic: cfg.topic, groupid: cfg.groupId, fromOffset: 'earliest', outOfRangeOffset: 'earliest', minbytes: 1, maxbytes: 1048576, wires: [['end']] },
        sink,
      ];
    case 'kafka-manager': {
      const [host, port] = cfg.brokers.split(',')[0].split(':');
      return [
        tab,
        { id: 'b1', type: 'Kafka Broker', name: 'bench', hosts: [{ host, port: Number(port) }], hostsEnvVar: '', connectTimeout: 10000, requestTimeout: 30000, autoConnect: 'true', idleConnection: 5, reconnectOnIdle: 'true', maxAsyncRequests: 10, checkInterval: 10, usetls: false, useCredentials: false },
        { id: 'dut', type: 'Kafka Consumer Group', z: 'tab', name: '', ...at, broker: 'b1', groupId: cfg.groupId, sessionTimeout: 15000, protocol: ['roundrobin'], encoding: 'buffer', fromOffset: 'earliest', commitOffsetsOnFirstJoin: 'true', outOfRangeOffset: 'earliest', topics: [cfg.topic], wires: [['end']] },
        sink,
      ];
    }
    case 'rdkafka':
      return [
        tab,
        { id: 'b1', type: 'kafka-broker', name: '', broker: cfg.brokers, clientid: 'bench-rdkafka' },
        // No start setting: librdkafka's auto.offset.reset (latest) applies; run.ts commits offset 0 for the group first.
        { id: 'dut', type: 'rdkafka in', z: 'tab', name: '', ...at, broker: 'b1', topic: cfg.topic, cgroup: cfg.groupId, autocommit: true, wires: [['end']] },
        sink,
      ];
  }
}

async function main(): Promise<void> {
  fs.writeFileSync(path.join(cfg.userDir, 'flows.json'), JSON.stringify(flow()));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  const errors: string[] = [];
  RED.init(http.createServer(), {
    userDir: cfg.userDir,
    flowFile: 'flows.json',
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    logging: {
      console: { level: 'warn', metrics: false, audit: false },
      bench: {
        level: 'error',
        metrics: false,
        audit: false,
        handler: () => (m: { msg?: unknown }) => {
          if (errors.length < 20) errors.push(String(m.msg).slice(0, 300));
        },
      },
    },
    editorTheme: { tours: false },
    telemetry: { enabled: false },
  });
  const started = performance.now();
  await RED.start();
  let end: any, dut: any;
  for (let i = 0; i < 400; i++) {
    end = RED.nodes.getNode('end');
    dut = RED.nodes.getNode('dut');
    if (end && dut) break;
    await sleep(25);
  }
  if (!dut || !end) {
    const missing = (RED.nodes.getNodeList?.() ?? []).filter((n: any) => n.err).map((n: any) => `${n.module}/${n.name}: ${n.err}`);
    throw new Error(`the ${cfg.impl} consumer node did not start (type not installed or failed to load?)${missing.length ? `: ${missing.join('; ')}` : ''}${errors.length ? `; log: ${errors.join(' | ')}` : ''}`);
  }

  let count = 0;
  let firstAt = NaN;
  let lastAt = NaN;
  let cpuFirst: NodeJS.CpuUsage | undefined;
  let cpuLast: NodeJS.CpuUsage | undefined;
  let done: (() => void) | undefined;
  end.on('input', () => {
    const now = performance.now();
    if (count === 0) {
      firstAt = now;
      cpuFirst = process.cpuUsage();
    }
    count++;
    lastAt = now;
    if (count >= cfg.records && done) {
      cpuLast = process.cpuUsage();
      done();
      done = undefined;
    }
  });
  let peakRss = vmKb('VmRSS');
  const rssTimer = setInterval(() => {
    const r = vmKb('VmRSS');
    if (r > peakRss) peakRss = r;
  }, 100);
  const finished = new Promise<void>((r) => (done = r));
  let why = 'all records';
  for (;;) {
    const res = await Promise.race([finished.then(() => true), sleep(500).then(() => false)]);
    if (res) break;
    const now = performance.now();
    const since = count ? now - lastAt : now - started;
    if (since > cfg.idleMs) {
      why = count ? `no msg for ${Math.round(cfg.idleMs / 1000)} s after ${count}` : `no msg within ${Math.round(cfg.idleMs / 1000)} s`;
      break;
    }
    if (now - started > cfg.maxMs) {
      why = `stopped after ${Math.round(cfg.maxMs / 1000)} s`;
      break;
    }
  }
  cpuLast ??= process.cpuUsage();
  clearInterval(rssTimer);
  const elapsedMs = lastAt - firstAt;
  const cpu = cpuFirst ? process.cpuUsage(cpuFirst) : undefined;
  const cpuMs = cpu && cpuLast ? (cpuLast.user - cpuFirst!.user + cpuLast.system - cpuFirst!.system) / 1000 : NaN;
  send({
    type: 'result',
    result: {
      count,
      complete: count >= cfg.records,
      why,
      startToFirstMs: firstAt - started,
      elapsedMs,
      recordsPerSec: count > 1 ? ((count - 1) * 1000) / elapsedMs : NaN,
      cpuMs,
      cpuPct: (cpuMs / elapsedMs) * 100,
      peakRssMb: Math.max(peakRss, vmKb('VmHWM')) / 1024,
      errors,
      nodeRed: RED.version(),
    },
  });
  // Stop the runtime (closes the consumer, commits where the node does), bounded.
  await Promise.race([RED.stop().catch(() => {}), sleep(15_000)]);
}

main().then(
  () => setTimeout(() => process.exit(0), 100),
  (err) => {
    send({ type: 'error', message: String(err?.stack ?? err) });
    setTimeout(() => process.exit(1), 100);
  },
);
