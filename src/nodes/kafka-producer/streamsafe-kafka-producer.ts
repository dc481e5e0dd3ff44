// Kafka producer node (sink): msg → record → accumulator → broker; the msg goes
// on with msg.kafka once acknowledged, or fails to Catch with the Kafka error.
//
// Thin glue over src/lib: the producer engine (lib/kafka/producer/producer.ts),
// its status (status.ts), summarised logs (common/log-summary.ts,
// failure-log.ts) and the handover of held records across redeploys
// (handover.ts, whose top comment states the guarantee).
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { LogSummary, problemLogLine } from '../../lib/common/log-summary';
import { nodeSettings, timingsFrom } from '../../lib/common/settings-timings';
import { localStatus, msg as message, statusPublisher, type StatusText } from '../../lib/common/status-message';
import { boundedDelay } from '../../lib/common/timers';
import { ProducerConfigError, producerOptionsFrom, type ProducerOptions } from '../../lib/kafka/producer/config';
import { finishConsumed } from '../../lib/kafka/consumer/finish-registry';
import { errorKind, errorMessage, keyText, recordLogLine, shortReason } from '../../lib/kafka/producer/failure-log';
import {
  engineIdentity,
  HandoverRegistry,
  OutcomeRelay,
  planHandover,
  pruneDrained,
  relaysOf,
  type AbandonReason,
  type Lineage,
  type OutcomeSink,
} from '../../lib/kafka/producer/handover';
import { KafkaProducer, type ConnectionState, type ProducerHooks } from '../../lib/kafka/producer/producer';
import type { PendingRecord, RecordMetadata } from '../../lib/kafka/producer/producer-batch';
import { ProducerStatusView } from '../../lib/kafka/producer/status';
import type { ConnectionSettings } from '../../lib/kafka/protocol/kafkajs';
import { toProducerRecord, type ProducerRecord, type RecordInput } from '../../lib/kafka/record';
import type { KafkaBrokerNode } from '../kafka-broker/broker-node';

interface KafkaProducerDef extends NodeDef, Record<string, unknown> {
  broker: string;
  topic: string;
}

/** Timings an operator may change in settings.js under `streamsafeKafkaProducer` (tests shorten them). */
interface Timings {
  /** how often the status is refreshed while records are held */
  statusIntervalMs: number;
  /** how often failures of one kind are summed up in the log */
  logSummaryIntervalMs: number;
  /** how long held records wait for the node's next instance after a redeploy */
  handoverWaitMs: number;
  /** the longest a close sends what it holds (Node-RED gives a node 15 s to close) */
  closeFlushMaxMs: number;
}

const DEFAULT_TIMINGS: Timings = { statusIntervalMs: 1000, logSummaryIntervalMs: 5000, handoverWaitMs: 30000, closeFlushMaxMs: 10000 };

function timings(RED: NodeAPI): Timings {
  return timingsFrom(nodeSettings(RED.settings, 'streamsafeKafkaProducer'), DEFAULT_TIMINGS, { closeFlushMaxMs: 12000 });
}

/** Where a msg's outcome goes: its own send/done while its node instance runs, else the relay. */
interface Route {
  live: boolean;
  relay: OutcomeRelay<Delivery>;
  noteFailure(err: Error): void;
  acks0Note: string;
}

/** One msg on its way: the record and what to do once it settles (one object per msg, no closures). */
class Delivery implements PendingRecord {
  receivedAt = 0;
  settled?: boolean;
  constructor(
    readonly record: ProducerRecord,
    readonly msg: NodeMessageInFlow & { kafka?: unknown },
    private readonly send: (m: NodeMessageInFlow) => void,
    private readonly done: (err?: Error) => void,
    private readonly route: Route,
  ) {}

  acknowledged(meta: RecordMetadata): void {
    // The metadata is msg.kafka itself; with acks 0 it says why there is no offset.
    this.msg.kafka = meta.acknowledged ? meta : { ...meta, note: this.route.acks0Note };
    // A msg from a kafka consumer node (finishOn producerAck) is finished once it leaves this
    // output: acknowledged, or sent with acks 0 (no acknowledgement to wait for: no guarantee).
    finishConsumed(this.msg, 'producerAck');
    if (!this.route.live) return this.route.relay.acknowledged(this);
    this.send(this.msg);
    this.done();
  }

  failed(err: Error): void {
    if (!this.route.live) return this.route.relay.failed(this, err);
    this.route.noteFailure(err);
    this.done(err);
  }
}

type ProducerLineage = Lineage<KafkaProducer, Delivery>;

// One registry per process: a redeploy's new instance finds what its previous instance left.
const registry = new HandoverRegistry<ProducerLineage>();
const listening = new WeakSet<object>();
/** Run once the flows have started (every node created, Catch nodes listed): a node must not send from its constructor. */
const afterStart = new Set<() => void>();

export = function (RED: NodeAPI) {
  const settings = timings(RED);
  const t = (key: string, subs?: Record<string, string | number>) => RED._(`streamsafe-kafka-producer.${key}`, subs);

  // Every new instance has claimed its lineage once the flows started: the rest has no instance.
  // The flows stopped outside a deploy (runtime stop, "stop flows"): none will come.
  const events = (RED as unknown as { events?: { on(ev: string, fn: (e: unknown) => void): void } }).events;
  if (events && !listening.has(events)) {
    listening.add(events);
    events.on('flows:started', () => {
      for (const fn of [...afterStart]) {
        afterStart.delete(fn);
        fn();
      }
      registry.abandonAll('notRedeployed');
    });
    events.on('runtime-event', (e) => {
      const ev = e as { id?: string; payload?: { state?: string; deploy?: boolean } } | undefined;
      if (ev?.id === 'runtime-state' && ev.payload?.state === 'stop' && !ev.payload.deploy) registry.abandonAll('stopped');
    });
  }

  /**
   * Calls fn once the flows started (or after the handover bound, should that event not
   * come); returns a cancel.
   */
  function whenFlowsStarted(fn: () => void): () => void {
    let done = false;
    const run = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      afterStart.delete(run);
      fn();
    };
    const timer = setTimeout(run, boundedDelay(events ? settings.handoverWaitMs : 0));
    timer.unref?.();
    if (events) afterStart.add(run);
    return () => {
      done = true;
      clearTimeout(timer);
      afterStart.delete(run);
    };
  }

  /**
   * Gives a lineage up: no instance will take it. Its producers send what they
   * can within the close bound and fail the rest; every outcome is logged on
   * `node` (failures with their keys, summed up; acknowledgements counted).
   */
  function abandon(lineage: ProducerLineage, why: AbandonReason | 'removed', node: Node): Promise<void> {
    let acknowledged = 0;
    const log = new LogSummary({ everyMs: settings.logSummaryIntervalMs }, (line) => node.error(recordLogLine(line, t)), (e) =>
      node.error(String(e)),
    );
    const sink: OutcomeSink<Delivery> = {
      acknowledged: () => acknowledged++,
      failed: (d, err) => log.add(errorKind(err), errorMessage(err), keyText(d.record.key)),
    };
    for (const r of relaysOf(lineage)) r.attach(sink);
    const reason = why === 'removed' ? t('errors.closedRemoved') : t('errors.closedStopped');
    const engines = [lineage.engine, ...lineage.draining.keys()];
    const closing = engines.map((e) => {
      e.setHooks({ onInternalError: (err) => node.error(t('errors.internal', { reason: err.stack ?? err.message })) });
      return e.close(Math.min(e.options.deliveryTimeoutMs, settings.closeFlushMaxMs), reason);
    });
    // Records failed at once (no broker) are told now, before anything else can stop us.
    log.flush();
    const finish = () => {
      log.close();
      if (acknowledged > 0) node.log(t('log.ackedWithoutNode', { count: acknowledged }));
    };
    return Promise.allSettled(closing).then(finish);
  }

  function KafkaProducerNode(this: Node, config: KafkaProducerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const topic = typeof config.topic === 'string' ? config.topic.trim() : '';
    // node.status(), and the status as a message for the editor to show in its own language.
    const setStatus = statusPublisher(node, RED.comms.publish);
    const show = (fill: Parameters<typeof localStatus>[0], shape: Parameters<typeof localStatus>[1], text: StatusText) =>
      setStatus(localStatus(fill, shape, text, t));

    // ---- logs: failures of a msg go to Catch; those no Catch takes are summed up ----
    const logError = (text: string) => node.error(text);
    const recordLog = new LogSummary({ everyMs: settings.logSummaryIntervalMs }, (line) => logError(recordLogLine(line, t)), (e) => logError(String(e)));
    const problemLog = new LogSummary(
      { everyMs: settings.logSummaryIntervalMs },
      (line) => (line.kind === 'unreachable' ? node.warn(problemLogLine(line, t)) : logError(problemLogLine(line, t))),
      (e) => logError(String(e)),
    );
    // done(err) ends in node.error(err, msg) (Node-RED 4.1 and 5.x: Node._complete), which
    // hands it to the flow's Catch nodes (Flow.handleError) and logs it when none takes it.
    // The same here, except that what no Catch takes is summed up instead of logged one by one.
    const own = node as Node & { _flow?: { handleError?(n: Node, err: unknown, msg: unknown): boolean } };
    const protoError = (...args: unknown[]) => (Reflect.get(Object.getPrototypeOf(node), 'error') as (...a: unknown[]) => void).apply(node, args);
    (node as { error: unknown }).error = function (logMessage: unknown, msg?: unknown) {
      const flow = own._flow;
      if (msg && typeof msg === 'object' && flow && typeof flow.handleError === 'function') {
        if (!flow.handleError(node, logMessage, msg)) {
          recordLog.add(errorKind(logMessage), errorMessage(logMessage), keyText((msg as { key?: unknown }).key));
        }
        return;
      }
      protoError(logMessage, msg);
    };

    // A node that cannot work still answers every msg, with the reason, so none is lost silently;
    // what an earlier instance held is still sent (bounded by its delivery timeout), reported here.
    const refuseAll = (reason: string, short: StatusText) => {
      show('red', 'dot', short);
      node.error(reason);
      const claimed = registry.claim(node.id);
      const cancel = claimed ? drainAway(claimed) : undefined;
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
        done(new Error(reason));
      });
      node.on('close', (_removed: boolean, done: () => void) => {
        cancel?.();
        const finish = () => {
          recordLog.close();
          problemLog.close();
          setStatus({});
          done();
        };
        if (claimed) abandon(claimed, 'stopped', node).then(finish, finish);
        else finish();
      });
    };
    // Sink for outcomes of records an earlier instance took.
    const sinkTo = (noteFailure: (err: Error) => void): OutcomeSink<Delivery> => ({
      acknowledged: (d) => node.send(d.msg),
      failed: (d, err) => {
        noteFailure(err);
        node.error(err, d.msg);
      },
    });
    const drainAway = (l: ProducerLineage) => {
      for (const e of [l.engine, ...l.draining.keys()]) {
        void e.close(e.options.deliveryTimeoutMs + e.options.requestTimeoutMs, t('errors.closedStopped'), { drain: true });
      }
      const sink = sinkTo(() => {});
      return whenFlowsStarted(() => {
        for (const r of relaysOf(l)) r.attach(sink);
      });
    };

    const broker = RED.nodes.getNode(config.broker) as KafkaBrokerNode | null;
    if (!broker) return refuseAll(t('errors.noBroker'), message('status.invalidBecause', { reason: message('status.noBroker') }));
    let options: ProducerOptions;
    try {
      options = producerOptionsFrom(config);
    } catch (e) {
      const first = e instanceof ProducerConfigError ? e.details[0] : undefined;
      const short = first ? message(`status.problem.${first.code}`, first.values) : (e as Error).message;
      return refuseAll((e as Error).message, message('status.invalidBecause', { reason: short }));
    }
    let connection: ConnectionSettings;
    try {
      connection = broker.connectionSettings();
    } catch (e) {
      const reason = (e as Error).message;
      return refuseAll(t('errors.broker', { reason }), message('status.invalidBecause', { reason: message('status.brokerInvalid', { reason }) }));
    }

    // ---- status ----
    let state: ConnectionState = 'connecting';
    let stateDetail: string | undefined;
    let lastFailure: string | undefined;
    const noteFailure = (err: Error) => {
      lastFailure = shortReason(err);
    };
    const view = new ProducerStatusView();
    let producer: KafkaProducer;
    let lineage: ProducerLineage;
    let closing = false;
    const refreshStatus = () => {
      if (closing || !producer) return;
      const previous = { records: 0, oldestAgeMs: 0 };
      for (const e of lineage.draining.keys()) {
        const h = e.heldRecords();
        previous.records += h.records;
        previous.oldestAgeMs = Math.max(previous.oldestAgeMs, h.oldestAgeMs);
      }
      const s = view.next({
        state,
        detail: stateDetail,
        held: producer.heldRecords(),
        metrics: producer.metricsSnapshot(),
        compression: options.compression,
        lastFailure,
        previous,
      });
      if (s) show(s.fill, s.shape, s.text);
    };
    const hooks: ProducerHooks = {
      onState: (next, detail) => {
        state = next;
        stateDetail = detail;
        if (next === 'disconnected') {
          problemLog.add('unreachable', t('warn.unreachable', { reason: detail ?? '', timeout: options.deliveryTimeoutMs }));
        }
        if (next === 'error' && detail) problemLog.add('fatal', t('errors.connection', { reason: detail }));
        refreshStatus();
      },
      onInternalError: (err) => problemLog.add('internal', t('errors.internal', { reason: err.stack ?? err.message })),
      onProblem: (text) => problemLog.add('problem', text),
    };

    // ---- the producer: a new one, or the one an earlier instance left (see handover.ts) ----
    const identity = engineIdentity(connection, options);
    const claimed = registry.claim(node.id);
    const plan = claimed ? planHandover(claimed.identity, identity) : undefined;
    const sink = sinkTo(noteFailure);
    if (claimed && plan === 'adopt') {
      producer = claimed.engine;
      lineage = claimed;
      state = producer.connectionState;
      producer.setHooks(hooks);
    } else {
      producer = new KafkaProducer(connection, options, hooks);
      const draining = claimed?.draining ?? new Map();
      if (claimed && plan === 'drain') {
        // The earlier producer sends what it holds first (bounded by its delivery timeout); this one waits.
        producer.hold();
        const previous = claimed.engine;
        previous.setHooks({ onInternalError: hooks.onInternalError });
        const closed = previous.close(previous.options.deliveryTimeoutMs + previous.options.requestTimeoutMs, t('errors.closedReplaced'), { drain: true });
        draining.set(previous, { relay: claimed.relay, closed });
      } else if (claimed) {
        // Another cluster: what the earlier producer holds fails now, to this instance's Catch nodes
        // (its relay keeps the failures until the flows have started, then hands them over).
        const relay = claimed.relay;
        void claimed.engine.close(0, t('errors.closedOtherCluster')).then(() => (relay.ended = true));
        draining.set(claimed.engine, { relay, closed: Promise.resolve() });
      }
      lineage = { identity, engine: producer, relay: new OutcomeRelay<Delivery>((e) => logError(String(e))), draining };
      const mine = producer;
      const current = lineage;
      if (draining.size) {
        for (const d of draining.values()) {
          void d.closed.then(() => {
            d.relay.ended = true;
            pruneDrained(current);
          });
        }
        void Promise.allSettled([...draining.values()].map((d) => d.closed)).then(() => mine.release());
      }
      producer.start();
    }
    // Outcomes of what earlier instances took come out of this one once the flows run.
    const cancelAttach = whenFlowsStarted(() => {
      if (closing) return;
      for (const r of relaysOf(lineage)) r.attach(sink);
      pruneDrained(lineage);
    });
    broker.register(node);
    const route: Route = { live: true, relay: lineage.relay, noteFailure, acks0Note: t('acks0') };

    const statusTimer = setInterval(refreshStatus, boundedDelay(settings.statusIntervalMs));
    statusTimer.unref?.();
    refreshStatus();

    // Metrics on the second output every N seconds, if asked for.
    const metricsEvery = Math.max(0, Number(config.metricsInterval) || 0);
    const metricsTimer =
      metricsEvery > 0 ? setInterval(() => node.send([null, { topic: 'metrics', payload: producer.metricsSnapshot() }]), boundedDelay(metricsEvery * 1000)) : undefined;
    metricsTimer?.unref?.();

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
      const refused = producer.refusal();
      if (refused) {
        noteFailure(refused);
        done(refused);
        return;
      }
      let record;
      try {
        record = toProducerRecord(msg as RecordInput, topic);
      } catch (e) {
        noteFailure(e as Error);
        done(e as Error);
        return;
      }
      producer.admit(new Delivery(record, msg, send, done, route));
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      cancelAttach();
      clearInterval(statusTimer);
      if (metricsTimer) clearInterval(metricsTimer);
      // From now on outcomes wait in the relays for the next instance (or the log).
      route.live = false;
      for (const r of relaysOf(lineage)) r.detach();
      const finish = () => {
        recordLog.close();
        problemLog.close();
        setStatus({});
        broker.deregister(node, done);
      };
      const failed = (e: unknown) => {
        protoError(t('errors.internal', { reason: (e as Error)?.stack ?? String(e) }));
        finish();
      };
      if (removed) {
        // No next instance: send what can be sent within the close bound, log the rest with their keys.
        abandon(lineage, 'removed', node).then(finish, failed);
        return;
      }
      // Stopped for a redeploy (or the runtime stops): send what can go now, within the close
      // bound, so that a runtime stopping loses nothing deliverable; park the rest for the next instance.
      const canSend = producer.connectionState === 'connected' && !producer.heldRecords().holding;
      const flushMs = canSend ? Math.min(options.deliveryTimeoutMs, settings.closeFlushMaxMs) : 0;
      producer.flush(flushMs).then(() => {
        pruneDrained(lineage);
        const nothingLeft = producer.idle && lineage.draining.size === 0 && relaysOf(lineage).every((r) => r.buffered === 0);
        if (nothingLeft) {
          void producer.close(0, t('errors.closedStopped')).then(finish, finish);
          return;
        }
        producer.setHooks({ onInternalError: (err) => protoError(t('errors.internal', { reason: err.stack ?? err.message })) });
        registry.park(node.id, lineage, settings.handoverWaitMs, (l, why) => void abandon(l, why, node).catch((e) => protoError(String(e))));
        finish();
      }).catch(failed);
    });
  }

  RED.nodes.registerType('streamsafe-kafka-producer', KafkaProducerNode as never);
};
