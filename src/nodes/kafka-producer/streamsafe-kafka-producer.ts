// Kafka producer node (sink): msg → record → accumulator → broker; the msg goes
// on with msg.kafka once acknowledged, or fails to Catch with the Kafka error.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { boundedDelay } from '../../lib/common/timers';
import { KafkaProducer, type ConnectionState } from '../../lib/kafka/producer/producer';
import type { PendingRecord, RecordMetadata } from '../../lib/kafka/producer/producer-batch';
import { metricsSummary } from '../../lib/kafka/producer/metrics';
import { producerOptionsFrom, type ProducerOptions } from '../../lib/kafka/producer/config';
import { toProducerRecord, type ProducerRecord, type RecordInput } from '../../lib/kafka/record';
import type { KafkaBrokerNode } from '../kafka-broker/broker-node';

interface KafkaProducerDef extends NodeDef, Record<string, unknown> {
  broker: string;
  topic: string;
}

type Status = { fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape?: 'ring' | 'dot'; text?: string };

// Node-RED waits 15 s for a node to close; flush within that.
const CLOSE_FLUSH_MAX_MS = 10000;
// How often the status summary ("1.2k msg/s · batch 14 KB") is refreshed.
const STATUS_EVERY_MS = 2000;

export = function (RED: NodeAPI) {
  function KafkaProducerNode(this: Node, config: KafkaProducerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const t = (key: string, subs?: Record<string, string | number>) => RED._(`streamsafe-kafka-producer.${key}`, subs);
    const topic = typeof config.topic === 'string' ? config.topic.trim() : '';

    // A node that cannot work still answers every msg, with the reason, so none is lost silently.
    const refuseAll = (reason: string) => {
      node.status({ fill: 'red', shape: 'dot', text: t('status.invalid') });
      node.error(reason);
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
        done(new Error(reason));
      });
    };

    const broker = RED.nodes.getNode(config.broker) as KafkaBrokerNode | null;
    if (!broker) return refuseAll(t('errors.noBroker'));
    let options: ProducerOptions;
    try {
      options = producerOptionsFrom(config);
    } catch (e) {
      return refuseAll((e as Error).message);
    }
    let connection;
    try {
      connection = broker.connectionSettings();
    } catch (e) {
      return refuseAll(t('errors.broker', { reason: (e as Error).message }));
    }

    let state: ConnectionState = 'connecting';
    const showState = (next: ConnectionState, detail?: string) => {
      state = next;
      const s: Record<ConnectionState, Status> = {
        connecting: { fill: 'yellow', shape: 'ring', text: t('status.connecting') },
        connected: { fill: 'green', shape: 'dot', text: t('status.connected') },
        disconnected: { fill: 'red', shape: 'ring', text: t('status.disconnected') },
        error: { fill: 'red', shape: 'dot', text: t('status.error') },
        closed: {},
      };
      const status = { ...s[next] };
      if (detail && status.text) status.text = `${status.text}: ${detail}`.slice(0, 120);
      node.status(status);
      if (next === 'error' && detail) node.error(t('errors.connection', { reason: detail }));
    };

    const producer = new KafkaProducer(connection, options, {
      onState: showState,
      onInternalError: (err) => node.error(t('errors.internal', { reason: err.stack ?? err.message })),
      onProblem: (message) => node.error(message),
    });
    broker.register(node);
    producer.start();

    // The last failure's reason, for the status: a status never says green while records fail.
    let lastFailure = '';
    const noteFailure = (err: Error) => {
      lastFailure = `${err.name}: ${err.message}`;
    };

    const acks0Note = t('acks0');
    /** One msg on its way: the record and what to do once it settles (one object per msg, no closures). */
    class Delivery implements PendingRecord {
      receivedAt = 0;
      settled?: boolean;
      constructor(
        readonly record: ProducerRecord,
        private readonly msg: NodeMessageInFlow & { kafka?: unknown },
        private readonly send: (m: NodeMessageInFlow) => void,
        private readonly done: (err?: Error) => void,
      ) {}

      acknowledged(meta: RecordMetadata): void {
        // The metadata is msg.kafka itself; with acks 0 it says why there is no offset.
        this.msg.kafka = meta.acknowledged ? meta : { ...meta, note: acks0Note };
        this.send(this.msg);
        this.done();
      }

      failed(err: Error): void {
        noteFailure(err);
        this.done(err);
      }
    }

    // While connected and busy, the status summarises the Java producer's metrics;
    // records failing in the metrics window turn it yellow (some go through) or red (none do).
    let lastSent = 0;
    let lastErrors = 0;
    const statusTimer = setInterval(() => {
      if (state !== 'connected') return;
      const m = producer.metricsSnapshot();
      const failing = m['record-error-rate'] > 0;
      if (!failing && m['record-send-total'] === lastSent && m['record-error-total'] === lastErrors && m['records-queued'] === 0) return;
      lastSent = m['record-send-total'];
      lastErrors = m['record-error-total'];
      const summary = metricsSummary(m, options.compression);
      if (!failing) {
        node.status({ fill: 'green', shape: 'dot', text: summary });
        return;
      }
      const fill = m['record-send-rate'] > 0 ? 'yellow' : 'red';
      node.status({ fill, shape: 'dot', text: `${summary} · ${t('status.failing')}: ${lastFailure}`.slice(0, 120) });
    }, boundedDelay(STATUS_EVERY_MS));
    statusTimer.unref?.();

    // Metrics on the second output every N seconds, if asked for.
    const metricsEvery = Math.max(0, Number(config.metricsInterval) || 0);
    const metricsTimer = metricsEvery > 0
      ? setInterval(() => node.send([null, { topic: 'metrics', payload: producer.metricsSnapshot() }]), boundedDelay(metricsEvery * 1000))
      : undefined;

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
      producer.admit(new Delivery(record, msg, send, done));
    });

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      if (metricsTimer) clearInterval(metricsTimer);
      const flushMs = Math.min(options.deliveryTimeoutMs, CLOSE_FLUSH_MAX_MS);
      // Node-RED stops every node of a flow at once: the Catch nodes of this flow are
      // stopping too, so each failed record's msg and error reach the log only.
      producer
        .close(flushMs, removed ? t('errors.closedRemoved') : t('errors.closedStopped'))
        .then(
          (failed) => {
            if (failed) node.warn(t('errors.closedWithPending', { count: failed }));
          },
          (e) => node.warn(String(e)),
        )
        .finally(() => {
          node.status({});
          broker.deregister(node, done);
        });
    });
  }

  RED.nodes.registerType('streamsafe-kafka-producer', KafkaProducerNode as never);
};
