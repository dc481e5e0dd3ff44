// Starts real Apache Kafka (KRaft) brokers for the tests: one JVM per node, all on
// 127.0.0.1, under a fresh temp dir removed on stop. Every node is a broker; the first
// `controllerCount` nodes (all by default) are also KRaft controllers.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTestCertificates } from './certs';
import { removeDirSync, trackDir, untrackDir } from './cleanup';
import { brokerJvmArgs, brokerLog4jConfig, javaRun, javaSpawn, tail } from './java';
import { freePorts } from './ports';
import { describeBrokers, type ProbeOptions } from './probe';

export type KafkaMode = 'single' | 'cluster' | 'sasl-ssl';

export interface StartKafkaOptions {
  mode: KafkaMode;
  /** Broker properties applied to every node, over the test defaults. */
  brokerConfig?: Record<string, string>;
  /** Shows up in the temp dir name; handy when several clusters run at once. */
  name?: string;
  /** Nodes in 'cluster' mode (default 3). */
  brokerCount?: number;
  /**
   * How many nodes are also KRaft controllers (default: all of them). Nodes 0..n-1 are
   * broker+controller, the others broker only; e.g. 5 brokers with 3 controllers survive
   * the loss of 2 broker-only nodes (or 1 controller + 1 broker-only) with the quorum alive.
   */
  controllerCount?: number;
  /** How long to wait for a node to serve (default 90 s; 2 busy cores can be slow). */
  startTimeoutMs?: number;
  /** Extra JVM flags for the brokers. */
  jvmArgs?: string[];
}

export interface KafkaHandle {
  mode: KafkaMode;
  name: string;
  clusterId: string;
  /** 'host:port' of each node's PLAINTEXT listener, index i = broker i = node id i + 1. */
  brokers: string[];
  nodeIds: number[];
  /** Indexes (into brokers) of the nodes in the KRaft controller quorum: 0..controllerCount-1. */
  controllers: number[];
  /** 'host:port' of each controller's CONTROLLER listener, in the order of `controllers`. */
  controllerAddresses: string[];
  /** Data dir (log.dirs) of each broker, for DumpLogSegments. */
  logDirs: string[];
  /** The broker log: all nodes of this handle append to it, each line tagged [node-<id>]. */
  logFile: string;
  /** Root temp dir (configs, data, log, certificates); removed by stop(). */
  dir: string;
  /** Stops every node (SIGKILL unless graceful) and removes the temp dir. */
  stop(opts?: { graceful?: boolean }): Promise<void>;
  /** SIGKILL broker i: no controlled shutdown, like a crash. */
  killBroker(i: number): Promise<void>;
  /** Graceful SIGTERM of broker i (controlled shutdown); resolves once it exited. */
  stopBroker(i: number): Promise<void>;
  /** Starts broker i again (same ports, same data dir); resolves when it serves. */
  startBroker(i: number): Promise<void>;
  /** stopBroker (if running) then startBroker. */
  restartBroker(i: number): Promise<void>;
  isRunning(i: number): boolean;
  /** Last lines of the broker log, for error messages. */
  logTail(lines?: number): string;
}

export interface SaslSslKafkaHandle extends KafkaHandle {
  /** 'host:port' of each node's SASL_SSL listener. `brokers` stays PLAINTEXT, for admin use. */
  saslBrokers: string[];
  ssl: { caPem: string; caFile: string };
  sasl: { mechanism: 'scram-sha-512'; username: string; password: string };
  /** The inter-broker SCRAM user, also usable by tests. */
  adminSasl: { mechanism: 'scram-sha-512'; username: string; password: string };
}

/** Defaults for fast, single-machine tests; brokerConfig overrides any of them. */
function defaultBrokerConfig(mode: KafkaMode, nodes: number): Record<string, string> {
  const rf = String(Math.min(3, nodes));
  const minIsr = nodes >= 3 ? '2' : '1';
  return {
    'auto.create.topics.enable': 'true',
    'num.partitions': '1',
    'default.replication.factor': rf,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': '5', // 50 by default: slow first consumer group
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': '5',
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': minIsr,
    'group.initial.rebalance.delay.ms': '0',
    'log.segment.bytes': String(16 * 1024 * 1024),
    'log.index.size.max.bytes': String(1024 * 1024),
    'log.cleaner.dedupe.buffer.size': String(16 * 1024 * 1024), // 128 MB of heap by default
    'num.network.threads': '2',
    'num.io.threads': '4',
    'background.threads': '4',
    'num.recovery.threads.per.data.dir': '2',
    // Notice a killed broker in ~3 s instead of 9 s, so ISR shrinks and leaders move fast.
    'broker.heartbeat.interval.ms': '500',
    'broker.session.timeout.ms': '3000',
    ...(mode === 'cluster' ? { 'leader.imbalance.check.interval.seconds': '10' } : {}),
  };
}

interface NodeState {
  index: number;
  nodeId: number;
  controller: boolean;
  port: number;
  /** Picked for every node; only controllers listen on it. */
  controllerPort: number;
  saslPort?: number;
  dir: string;
  dataDir: string;
  propsFile: string;
  child?: ChildProcess;
  exited?: Promise<void>;
}

class StartError extends Error {
  constructor(message: string, readonly portClash: boolean) {
    super(message);
  }
}

function escapeProperty(text: string, isKey: boolean): string {
  let out = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  if (isKey) out = out.replace(/([=: #!])/g, '\\$1');
  return out;
}

function writeProperties(file: string, props: Record<string, string>): void {
  const lines = Object.entries(props).map(([k, v]) => `${escapeProperty(k, true)}=${escapeProperty(v, false)}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (Kafka's Uuid format). */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka never generates these (CLI-unfriendly)
  }
}

function secret(): string {
  return randomBytes(12).toString('hex'); // hex: safe inside JAAS and --add-scram syntax
}

function readTail(file: string, lines: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 256 * 1024);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return tail(buf.toString('utf8'), lines);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '(no broker log)';
  }
}

export function startKafka(opts: StartKafkaOptions & { mode: 'sasl-ssl' }): Promise<SaslSslKafkaHandle>;
export function startKafka(opts: StartKafkaOptions): Promise<KafkaHandle>;
export async function startKafka(opts: StartKafkaOptions): Promise<KafkaHandle> {
  if (!['single', 'cluster', 'sasl-ssl'].includes(opts.mode)) throw new Error(`unknown Kafka mode ${opts.mode}`);
  // A port taken between picking and binding is the one expected failure: retry with new ports.
  for (let attempt = 1; ; attempt++) {
    const cluster = new TestCluster(opts);
    try {
      await cluster.start();
      return cluster.handle();
    } catch (err) {
      await cluster.stop({ graceful: false }).catch(() => {});
      if (!(err instanceof StartError && err.portClash) || attempt >= 3) throw err;
    }
  }
}

class TestCluster {
  readonly mode: KafkaMode;
  readonly name: string;
  readonly clusterId = newClusterId();
  readonly dir: string;
  readonly logFile: string;
  readonly nodes: NodeState[] = [];
  readonly timeoutMs: number;
  private stopped = false;
  private sasl?: { user: string; password: string; adminUser: string; adminPassword: string };
  private ssl?: { caPem: string; caFile: string; keystoreFile: string };

  constructor(readonly opts: StartKafkaOptions) {
    this.mode = opts.mode;
    this.name = (opts.name ?? opts.mode).replace(/[^A-Za-z0-9_.-]/g, '_');
    this.timeoutMs = opts.startTimeoutMs ?? 90_000;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `streamsafe-kafka-${this.name}-`));
    trackDir(this.dir);
    this.logFile = path.join(this.dir, 'kafka.log');
  }

  async start(): Promise<void> {
    const count = this.mode === 'cluster' ? (this.opts.brokerCount ?? 3) : 1;
    if (!Number.isInteger(count) || count < 1) throw new Error(`brokerCount must be a positive integer, got ${count}`);
    const controllers = this.opts.controllerCount ?? count;
    if (!Number.isInteger(controllers) || controllers < 1 || controllers > count) {
      throw new Error(`controllerCount must be an integer from 1 to the ${count} node(s), got ${controllers}`);
    }
    const perNode = this.mode === 'sasl-ssl' ? 3 : 2;
    const ports = await freePorts(count * perNode);
    for (let i = 0; i < count; i++) {
      const dir = path.join(this.dir, `node-${i + 1}`);
      fs.mkdirSync(dir, { recursive: true });
      this.nodes.push({
        index: i,
        nodeId: i + 1,
        controller: i < controllers,
        port: ports[i * perNode],
        controllerPort: ports[i * perNode + 1],
        saslPort: this.mode === 'sasl-ssl' ? ports[i * perNode + 2] : undefined,
        dir,
        dataDir: path.join(dir, 'data'),
        propsFile: path.join(dir, 'server.properties'),
      });
    }
    const scram: string[] = [];
    if (this.mode === 'sasl-ssl') {
      this.ssl = await makeTestCertificates(path.join(this.dir, 'tls'));
      this.sasl = { user: 'streamsafe', password: secret(), adminUser: 'admin', adminPassword: secret() };
      // SCRAM credentials live in the metadata log; writing them at format time means the
      // inter-broker user exists before the broker first needs it.
      scram.push(
        '--add-scram', `SCRAM-SHA-512=[name=${this.sasl.adminUser},password=${this.sasl.adminPassword}]`,
        '--add-scram', `SCRAM-SHA-512=[name=${this.sasl.user},password=${this.sasl.password}]`,
      );
    }
    const base = { ...defaultBrokerConfig(this.mode, count), ...(this.opts.brokerConfig ?? {}) };
    for (const node of this.nodes) writeProperties(node.propsFile, { ...base, ...this.nodeConfig(node) });
    // Formatting is independent per node; run them together.
    await Promise.all(
      this.nodes.map((node) =>
        javaRun('kafka.tools.StorageTool', ['format', '-t', this.clusterId, '-c', node.propsFile, ...scram], {
          timeoutMs: this.timeoutMs,
          jvmArgs: ['-XX:TieredStopAtLevel=1'], // short-lived: the C2 compiler would only cost time
        }),
      ),
    );
    await Promise.all(this.nodes.map((node) => this.spawnNode(node)));
    const all = this.nodes.map((n) => n.nodeId);
    await Promise.all(this.nodes.map((node) => this.waitReady(node, all)));
    if (this.mode === 'sasl-ssl') await this.waitReady(this.nodes[0], all, true);
  }

  /** Settings that must differ per node or per mode; these win over brokerConfig. */
  private nodeConfig(node: NodeState): Record<string, string> {
    const host = '127.0.0.1';
    const listeners = [`PLAINTEXT://${host}:${node.port}`];
    if (node.controller) listeners.push(`CONTROLLER://${host}:${node.controllerPort}`);
    const advertised = [`PLAINTEXT://${host}:${node.port}`];
    const cfg: Record<string, string> = {
      'process.roles': node.controller ? 'broker,controller' : 'broker',
      'node.id': String(node.nodeId),
      // Static voters: no --standalone/--initial-controllers dance, fixed for the test's life.
      'controller.quorum.voters': this.nodes
        .filter((n) => n.controller)
        .map((n) => `${n.nodeId}@${host}:${n.controllerPort}`)
        .join(','),
      // Broker-only nodes need it too: it names the protocol they use to reach the controllers.
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': node.dataDir,
    };
    if (this.mode === 'sasl-ssl') {
      const { adminUser, adminPassword } = this.sasl!;
      listeners.push(`SASL_SSL://${host}:${node.saslPort}`);
      advertised.push(`SASL_SSL://${host}:${node.saslPort}`);
      Object.assign(cfg, {
        // Inter-broker traffic (e.g. transaction markers) goes over SASL_SSL too, so the
        // broker side of SCRAM and TLS is exercised, not just the client side.
        'inter.broker.listener.name': 'SASL_SSL',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
        'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
        'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
          `org.apache.kafka.common.security.scram.ScramLoginModule required username="${adminUser}" password="${adminPassword}";`,
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': this.ssl!.keystoreFile,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': this.ssl!.caFile,
        'ssl.client.auth': 'none',
      });
    }
    cfg.listeners = listeners.join(',');
    cfg['advertised.listeners'] = advertised.join(',');
    return cfg;
  }

  private async spawnNode(node: NodeState): Promise<void> {
    // stdout/stderr (JVM errors before log4j starts, crash reports) go to the same file.
    const fd = fs.openSync(this.logFile, 'a');
    try {
      node.child = await javaSpawn('kafka.Kafka', [node.propsFile], {
        log4jConfig: brokerLog4jConfig,
        cleanupDir: this.dir,
        jvmArgs: [
          `-Dstreamsafe.log.file=${this.logFile}`,
          `-Dstreamsafe.node.id=${node.nodeId}`,
          ...brokerJvmArgs(),
          ...(this.opts.jvmArgs ?? []),
        ],
        stdio: ['ignore', fd, fd],
      });
    } finally {
      fs.closeSync(fd);
    }
    const child = node.child;
    // Don't keep the test process alive for a broker nobody stopped: the exit hook kills it.
    child.unref();
    node.exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      // Failing to spawn at all (no java on PATH) emits 'error' and never 'exit'.
      child.once('error', (err) => {
        fs.appendFileSync(this.logFile, `cannot start java for node ${node.nodeId}: ${err.message}\n`);
        resolve();
      });
    });
    void node.exited.then(() => {
      if (node.child === child) node.child = undefined;
    });
  }

  private running(node: NodeState): boolean {
    const c = node.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  /** Polls node until it reports all `expected` ids, failing fast if its JVM dies. */
  private async waitReady(node: NodeState, expected: number[], viaSasl = false): Promise<void> {
    const address = `127.0.0.1:${viaSasl ? node.saslPort : node.port}`;
    const probe: ProbeOptions = viaSasl
      ? {
          ssl: { ca: [this.ssl!.caPem] },
          sasl: { mechanism: 'scram-sha-512', username: this.sasl!.adminUser, password: this.sasl!.adminPassword },
        }
      : {};
    const started = Date.now();
    let lastError = 'no answer yet';
    while (Date.now() - started < this.timeoutMs) {
      if (this.stopped) throw new Error(`Kafka ${this.name} was stopped while node ${node.nodeId} was starting`);
      if (!this.running(node)) {
        await sleep(200); // let the last log lines land
        const log = readTail(this.logFile, 80);
        const clash = /BindException|Address already in use/.test(log);
        throw new StartError(
          `Kafka node ${node.nodeId} (${this.name}) exited while starting${clash ? ' (port already in use)' : ''}.\n` +
            `Broker log ${this.logFile}, last lines:\n${log}`,
          clash,
        );
      }
      try {
        const ids = await describeBrokers(address, probe);
        if (expected.every((id) => ids.includes(id))) return;
        lastError = `metadata lists brokers [${ids.join(', ')}], waiting for [${expected.join(', ')}]`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await sleep(250);
    }
    throw new StartError(
      `Kafka node ${node.nodeId} (${this.name}) did not serve on ${address} within ${this.timeoutMs} ms (${lastError}).\n` +
        `Broker log ${this.logFile}, last lines:\n${readTail(this.logFile, 80)}`,
      false,
    );
  }

  private node(i: number): NodeState {
    const node = this.nodes[i];
    if (!node) throw new Error(`no broker ${i} in ${this.name} (${this.nodes.length} broker(s), indexes from 0)`);
    if (this.stopped) throw new Error(`Kafka ${this.name} is stopped`);
    return node;
  }

  private async signalAndWait(node: NodeState, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = node.child;
    if (!child || !this.running(node)) return;
    child.ref(); // an unref'ed child would let the process exit while we await it
    try {
      child.kill(signal);
      const exited = node.exited!;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
      ]);
      clearTimeout(timer); // a pending timer would keep the test process alive
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    } finally {
      child.unref();
    }
  }

  async killBroker(i: number): Promise<void> {
    await this.signalAndWait(this.node(i), 'SIGKILL', 10_000);
  }

  async stopBroker(i: number): Promise<void> {
    await this.signalAndWait(this.node(i), 'SIGTERM', 60_000);
  }

  async startBroker(i: number): Promise<void> {
    const node = this.node(i);
    if (this.running(node)) throw new Error(`broker ${i} of ${this.name} is already running`);
    // Same ports: a client's connection from an ephemeral port can briefly hold one of
    // them, so retry a few times before giving up.
    for (let attempt = 1; ; attempt++) {
      await this.spawnNode(node);
      try {
        await this.waitReady(node, [node.nodeId]);
        return;
      } catch (err) {
        if (!(err instanceof StartError && err.portClash) || attempt >= 5) {
          if (this.running(node)) await this.signalAndWait(node, 'SIGKILL', 10_000);
          throw err;
        }
        await sleep(1000);
      }
    }
  }

  async restartBroker(i: number): Promise<void> {
    await this.stopBroker(i);
    await this.startBroker(i);
  }

  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Data is thrown away, so a crash-stop is fine and much faster than controlled
    // shutdown of nodes that are all leaving at once.
    const signal = opts.graceful ? 'SIGTERM' : 'SIGKILL';
    await Promise.all(this.nodes.map((node) => this.signalAndWait(node, signal, opts.graceful ? 30_000 : 10_000)));
    if (process.env.STREAMSAFE_KEEP_KAFKA) {
      process.stderr.write(`STREAMSAFE_KEEP_KAFKA set: keeping ${this.dir}\n`);
    } else {
      removeDirSync(this.dir);
    }
    untrackDir(this.dir);
  }

  handle(): KafkaHandle {
    const h: KafkaHandle = {
      mode: this.mode,
      name: this.name,
      clusterId: this.clusterId,
      brokers: this.nodes.map((n) => `127.0.0.1:${n.port}`),
      nodeIds: this.nodes.map((n) => n.nodeId),
      controllers: this.nodes.filter((n) => n.controller).map((n) => n.index),
      controllerAddresses: this.nodes.filter((n) => n.controller).map((n) => `127.0.0.1:${n.controllerPort}`),
      logDirs: this.nodes.map((n) => n.dataDir),
      logFile: this.logFile,
      dir: this.dir,
      stop: (o) => this.stop(o),
      killBroker: (i) => this.killBroker(i),
      stopBroker: (i) => this.stopBroker(i),
      startBroker: (i) => this.startBroker(i),
      restartBroker: (i) => this.restartBroker(i),
      isRunning: (i) => !!this.nodes[i] && this.running(this.nodes[i]),
      logTail: (lines = 80) => readTail(this.logFile, lines),
    };
    if (this.mode !== 'sasl-ssl') return h;
    const s: SaslSslKafkaHandle = {
      ...h,
      saslBrokers: this.nodes.map((n) => `127.0.0.1:${n.saslPort}`),
      ssl: { caPem: this.ssl!.caPem, caFile: this.ssl!.caFile },
      sasl: { mechanism: 'scram-sha-512', username: this.sasl!.user, password: this.sasl!.password },
      adminSasl: { mechanism: 'scram-sha-512', username: this.sasl!.adminUser, password: this.sasl!.adminPassword },
    };
    return s;
  }
}
