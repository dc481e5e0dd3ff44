// Kafka consumer node (source): records of a consumer group → msgs, with backpressure and
// commits that follow the flow. Thin glue over src/lib/kafka/consumer (consumer.ts states
// the guarantees); control msgs on the input: pause, resume, seek, commit.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { localStatus, msg as message, statusPublisher, type StatusMessage, type StatusText } from '../../lib/common/status-message';
import { LogSummary, problemLogLine } from '../../lib/common/log-summary';
import { nodeSettings, timingsFrom } from '../../lib/common/settings-timings';
import { boundedDelay } from '../../lib/common/timers';
import { registerKafkajsCodecs } from '../../lib/kafka/codecs';
import { ConsumerControlError, DEFAULT_CONSUMER_TIMINGS, KafkaConsumerEngine, type ConsumerTimings } from '../../lib/kafka/consumer/consumer';
import { deregisterConsumer, registerConsumer, type FinishHandler } from '../../lib/kafka/consumer/finish-registry';
import { ConsumerConfigError, consumerSettingsFrom, parseTimestamp, type ConsumerConfig, type ConsumerSettings } from '../../lib/kafka/consumer/settings';
import type { KafkaBrokerNode } from '../kafka-broker/broker-node';

const TYPE = 'streamsafe-kafka-consumer';

type KafkaConsumerDef = NodeDef & ConsumerConfig & { broker: string };

interface Timings extends ConsumerTimings {
  statusIntervalMs: number;
  /** a warning that keeps coming (commits failing while the coordinator is away) is summed up this often */
  logSummaryIntervalMs: number;
}

function timings(RED: NodeAPI): Timings {
  const defaults: Timings = { statusIntervalMs: 1000, logSummaryIntervalMs: 5000, ...DEFAULT_CONSUMER_TIMINGS };
  return timingsFrom(nodeSettings(RED.settings, 'streamsafeKafkaConsumer'), defaults, { closeMaxMs: 12000 });
}

/** An error with a name a Catch node can tell apart. */
function named(name: string, text: string): Error {
  const e = new Error(text);
  e.name = name;
  return e;
}

const ACTIONS = ['pause', 'resume', 'seek', 'commit'];

export = function (RED: NodeAPI) {
  const settingsTimings = timings(RED);
  const t = (key: string, subs?: Record<string, string | number>) => RED._(`${TYPE}.${key}`, subs);
  const events = (RED as unknown as { events?: { on(ev: string, fn: () => void): void; removeListener(ev: string, fn: () => void): void } }).events;
  // All five codecs decode in every kafkajs consumer of the process.
  let codecs: Promise<void> | undefined;

  function KafkaConsumerNode(this: Node, config: KafkaConsumerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const setStatus = statusPublisher(node, RED.comms.publish);
    const show = (fill: Parameters<typeof localStatus>[0], shape: Parameters<typeof localStatus>[1], text: StatusText) => setStatus(localStatus(fill, shape, text, t));
    const render = (m: StatusMessage) => t(m.key, Object.fromEntries(Object.entries(m.values ?? {}).map(([k, v]) => [k, typeof v === 'number' ? v : String(v)])));

    // A node that cannot work answers every control msg with the reason and sends nothing.
    const refuse = (reason: string, short: StatusText) => {
      show('red', 'dot', short);
      node.error(reason);
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => done(named('ConsumerConfigError', reason)));
      node.on('close', (_removed: boolean, done: () => void) => {
        setStatus({});
        done();
      });
    };

    const broker = RED.nodes.getNode(config.broker) as KafkaBrokerNode | null;
    if (!broker) return refuse(t('errors.noBrokerNode'), message('status.invalidBecause', { reason: message('status.noBroker') }));
    let settings: ConsumerSettings;
    try {
      settings = consumerSettingsFrom(config);
    } catch (e) {
      const problems = e instanceof ConsumerConfigError ? e.problems : [];
      const reasons = problems.length ? problems.map((p) => render(p.message)) : [(e as Error).message];
      return refuse(t('errors.invalid', { reason: reasons.join('; ') }), message('status.invalidBecause', { reason: problems[0]?.message ?? reasons[0] }));
    }
    let kafka;
    try {
      kafka = broker.kafka();
    } catch (e) {
      const reason = (e as Error).message;
      return refuse(t('errors.broker', { reason }), message('status.invalidBecause', { reason: message('status.brokerInvalid', { reason }) }));
    }

    let closing = false;
    let lastProblem: string | undefined;
    // Commit and crash reports repeat while a broker is away: the first is told, then how often it came again.
    const problemLog = new LogSummary(
      { everyMs: settingsTimings.logSummaryIntervalMs },
      (line) => (line.kind === 'commit' ? node.warn(problemLogLine(line, t)) : node.error(problemLogLine(line, t))),
      (e) => node.error(String(e)),
    );
    let revokedInFlow = 0;
    const engine = new KafkaConsumerEngine(
      kafka,
      settings,
      node.id,
      {
        deliver: (m) => node.send(m as unknown as NodeMessageInFlow),
        onState: () => refreshStatus(),
        onRevoked: (revoked, orphaned) => {
          revokedInFlow += orphaned;
          if (orphaned > 0) {
            node.warn(t('warn.revoked', { count: orphaned, partitions: revoked.map((p) => `${p.topic}-${p.partition}`).join(', ') || '-' }));
          }
        },
        onProblem: (kind, err) => {
          lastProblem = err.message;
          if (kind === 'lag') node.debug(t('warn.lag', { reason: err.message }));
          else if (kind === 'commit') problemLog.add('commit', t('warn.commit', { reason: err.message }));
          else if (kind === 'leave') node.warn(t('warn.leave', { reason: err.message, ms: settings.sessionTimeoutMs }));
          else if (kind === 'internal') node.error(t('errors.internal', { reason: err.stack ?? err.message }));
          else problemLog.add('crash', t('errors.crash', { reason: err.message }));
          refreshStatus();
        },
        onInfo: (text) => node.debug(text),
      },
      settingsTimings,
    );

    const handler: FinishHandler = (token, source) => engine.finish(token, source);
    registerConsumer(node.id, handler);
    broker.register(node);

    let lastParseErrors = 0;
    function refreshStatus(): void {
      if (closing) return;
      const s = engine.snapshot();
      if (s.parseErrors > lastParseErrors) {
        node.warn(t('warn.parseErrors', { count: s.parseErrors - lastParseErrors }));
        lastParseErrors = s.parseErrors;
      }
      if (s.state === 'error') return show('red', 'ring', message('status.error', { reason: s.detail ?? lastProblem ?? '?' }));
      if (s.state === 'connecting') return show('yellow', 'ring', message('status.connecting'));
      if (s.state === 'rebalancing') return show('yellow', 'ring', message('status.rebalancing'));
      if (s.state === 'stopped') return;
      // Most telling first: the status is cut at 60 characters.
      const parts: StatusMessage[] = [];
      if (s.lag !== undefined) parts.push(message('status.lag', { count: s.lag }));
      parts.push(message(s.assigned === 1 ? 'status.partition' : 'status.partitions', { count: s.assigned }));
      const outstanding = { count: s.outstanding, max: settings.maxOutstanding };
      if (engine.tracksFinishing && !s.waiting) parts.push(message('status.outstanding', outstanding));
      if (revokedInFlow > 0) parts.push(message('status.revokedInFlow', { count: revokedInFlow }));
      // Last: the status is cut at 60 characters.
      parts.push(message('status.rate', { rate: s.sent >= 10 ? Math.round(s.sent) : Math.round(s.sent * 10) / 10 }));
      if (s.paused) return show('yellow', 'dot', [message('status.paused'), ...parts]);
      // Never green while finished offsets cannot be committed (the coordinator away): a crash now would read them again.
      if (s.commitFailing) return show('yellow', 'dot', [message('status.commitFailing', { seconds: Math.max(1, Math.round((Date.now() - s.commitFailing.since) / 1000)) }), ...parts]);
      // At the limit the outstanding count leads: the status is cut at 60 characters.
      if (s.waiting) return show('blue', 'dot', [message('status.atLimit', outstanding), ...parts]);
      show('green', 'dot', parts);
    }
    const statusTimer = setInterval(refreshStatus, boundedDelay(settingsTimings.statusIntervalMs));
    statusTimer.unref?.();
    show('yellow', 'ring', message('status.connecting'));

    // Start once the flows run: a msg sent before the nodes it is wired to exist would be lost.
    let started = false;
    const start = () => {
      if (started || closing) return;
      started = true;
      events?.removeListener('flows:started', start);
      clearTimeout(startTimer);
      codecs ??= registerKafkajsCodecs();
      codecs.then(
        () => !closing && engine.start(),
        (e: Error) => {
          node.error(t('errors.codecs', { reason: e.message }));
          if (!closing) engine.start();
        },
      );
    };
    events?.on('flows:started', start);
    const startTimer = setTimeout(start, boundedDelay(events ? 2000 : 0));
    startTimer.unref?.();

    // ---- control msgs ----
    const controlError = (code: string, values: Record<string, string | number> = {}) => named('ConsumerControlError', t(`errors.control.${code}`, values));
    const partitionOf = (v: unknown): number | undefined | Error => {
      if (v === undefined || v === null || v === '') return undefined;
      const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(String(v)) ? Number(v) : NaN;
      return Number.isSafeInteger(n) && n >= 0 && n <= 0x7fffffff ? n : controlError('partition', { value: String(v) });
    };
    node.on('input', (msg: NodeMessageInFlow & Record<string, unknown>, _send: unknown, done: (err?: Error) => void) => {
      const action = msg.action;
      if (typeof action !== 'string' || !ACTIONS.includes(action)) return done(controlError('action', { value: String(action) }));
      const topic = msg.topic === undefined || msg.topic === '' ? undefined : msg.topic;
      if (topic !== undefined && typeof topic !== 'string') return done(controlError('topic', { value: String(topic) }));
      const partition = partitionOf(msg.partition);
      if (partition instanceof Error) return done(partition);
      if (partition !== undefined && topic === undefined) return done(controlError('partitionWithoutTopic'));
      const fail = (e: unknown) => {
        if (e instanceof ConsumerControlError) done(controlError(e.code, e.values));
        else done(named('KafkaConsumerError', t('errors.controlFailed', { action, reason: (e as Error)?.message ?? String(e) })));
      };
      try {
        if (action === 'pause') {
          engine.pause(topic, partition === undefined ? undefined : [partition]);
          refreshStatus();
          return done();
        }
        if (action === 'resume') {
          engine.resume(topic, partition === undefined ? undefined : [partition]);
          refreshStatus();
          return done();
        }
        if (action === 'commit') {
          engine.commitNow().then(() => done(), fail);
          return;
        }
        // seek
        const seekTopic = topic ?? (settings.topics.length === 1 ? settings.topics[0] : undefined);
        if (seekTopic === undefined) return done(controlError('seekTopic'));
        const hasOffset = msg.offset !== undefined && msg.offset !== null && msg.offset !== '';
        const hasTime = msg.timestamp !== undefined && msg.timestamp !== null && msg.timestamp !== '';
        if (hasOffset === hasTime) return done(controlError('seekTarget'));
        let to: { offset: string } | { timestamp: number } | { edge: 'earliest' | 'latest' };
        if (hasOffset) {
          const o = msg.offset;
          const text = typeof o === 'number' || typeof o === 'bigint' ? String(o) : typeof o === 'string' ? o.trim() : '';
          if (text === 'earliest' || text === 'latest') to = { edge: text };
          else if (/^\d+$/.test(text) && BigInt(text) <= 0x7fffffffffffffffn) to = { offset: text };
          else return done(controlError('offset', { value: String(o) }));
        } else {
          const ts = msg.timestamp instanceof Date ? msg.timestamp.getTime() : parseTimestamp(msg.timestamp);
          if (Number.isNaN(ts)) return done(controlError('timestamp', { value: String(msg.timestamp) }));
          to = { timestamp: ts };
        }
        engine.seek(seekTopic, partition, to).then(() => done(), fail);
      } catch (e) {
        fail(e);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      events?.removeListener('flows:started', start);
      clearTimeout(startTimer);
      clearInterval(statusTimer);
      deregisterConsumer(node.id, handler);
      problemLog.close();
      const finish = () => {
        setStatus({});
        broker.deregister(node, done);
      };
      engine.close().then(({ orphaned }) => {
        if (orphaned > 0) node.warn(t('warn.closedInFlow', { count: orphaned }));
        finish();
      }, finish);
    });
  }

  RED.nodes.registerType(TYPE, KafkaConsumerNode as never);
};
