// Partition key node: computes, before anything is sent, the partition a keyed
// record lands on (the Java client's toPositive(murmur2(keyBytes)) % numPartitions)
// and writes it to msg.partition, with the key in msg.key, so that a flow can
// route or tag by partition and the producer node sends exactly there.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { murmur2, murmur2String, toPositive } from '../../lib/kafka/murmur2';
import { topicNameProblem } from '../../lib/kafka/record';
import { DEFAULT_METADATA_MAX_AGE_MS, type TopicMetadataCache } from '../../lib/kafka/topic-metadata';
import type { KafkaBrokerNode } from '../kafka-broker/broker-node';

interface PartitionKeyDef extends NodeDef {
  key: string;
  keyType: string;
  nullKey: string;
  partitionsFrom: string;
  partitions: string | number;
  broker: string;
  topic: string;
  metadataMaxAgeMs: string | number;
  outputHash: boolean;
}

type Send = (msg: NodeMessage) => void;
type Done = (err?: Error) => void;
type Msg = NodeMessageInFlow & Record<string, unknown>;

interface Job {
  msg: Msg;
  send: Send;
  done: Done;
}

/** Key as it goes on in msg.key (bytes the producer sends = bytes hashed) and its murmur2. */
interface Keyed {
  key: string | Buffer | number;
  hash: number;
}

/** Status updates at most this often: a busy flow would otherwise flood the editor. */
const STATUS_INTERVAL_MS = 250;
const MAX_PARTITIONS = 0x7fffffff;
const KEY_TYPES = ['msg', 'flow', 'global', 'jsonata'];

class PartitionKeyError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PartitionKeyError';
  }
}

function wholeNumber(value: unknown, fallback: number): number {
  if (value === '' || value === undefined || value === null) return fallback;
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(String(value)) ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n : NaN;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export = function (RED: NodeAPI) {
  function PartitionKeyNode(this: Node, config: PartitionKeyDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const t = (key: string, subs?: Record<string, string | number>) => RED._(`streamsafe-partition-key.${key}`, subs);

    // A node that cannot work still answers every msg, with the reason, so none is lost silently.
    const refuseAll = (reason: string) => {
      node.status({ fill: 'red', shape: 'dot', text: t('status.invalid') });
      node.error(reason);
      node.on('input', (_msg: NodeMessageInFlow, _send: Send, done: Done) => done(new PartitionKeyError(reason)));
    };

    // ---- configuration ---------------------------------------------------
    const keyType = config.keyType || 'msg';
    const keyExpr = typeof config.key === 'string' && config.key.trim() !== '' ? config.key.trim() : keyType === 'msg' ? 'key' : '';
    if (!KEY_TYPES.includes(keyType)) return refuseAll(t('errors.keyType', { type: keyType }));
    if (keyExpr === '') return refuseAll(t('errors.keyMissing'));
    const keyLabel = keyType === 'jsonata' ? keyExpr : `${keyType}.${keyExpr.replace(/^msg\./, '')}`;
    const passWithoutKey = (config.nullKey || 'pass') !== 'error';
    const outputHash = config.outputHash === true || (config.outputHash as unknown) === 'true';
    const fromBroker = config.partitionsFrom === 'broker';

    // msg paths are parsed once and walked per msg.
    let keyPath: Array<string | number> | undefined;
    let jsonata: ReturnType<NodeAPI['util']['prepareJSONataExpression']> | undefined;
    try {
      if (keyType === 'msg') {
        const expr = keyExpr.replace(/^msg\./, '');
        // A path with a nested msg reference ("payload[msg.field]") is left to Node-RED.
        if (!/\[\s*msg\b/.test(expr)) keyPath = RED.util.normalisePropertyExpression(expr);
      } else if (keyType === 'jsonata') {
        jsonata = RED.util.prepareJSONataExpression(keyExpr, node);
      }
    } catch (e) {
      return refuseAll(t('errors.keyExpression', { key: keyLabel, reason: (e as Error).message }));
    }

    let fixedCount = 0;
    let cache: TopicMetadataCache | undefined;
    let maxAgeMs = DEFAULT_METADATA_MAX_AGE_MS;
    const fixedTopic = typeof config.topic === 'string' ? config.topic.trim() : '';
    if (fromBroker) {
      maxAgeMs = wholeNumber(config.metadataMaxAgeMs, DEFAULT_METADATA_MAX_AGE_MS);
      if (!(maxAgeMs >= 0)) return refuseAll(t('errors.maxAge', { value: String(config.metadataMaxAgeMs) }));
      if (fixedTopic) {
        const problem = topicNameProblem(fixedTopic);
        if (problem) return refuseAll(problem);
      }
      const broker = RED.nodes.getNode(config.broker) as KafkaBrokerNode | null;
      if (!broker) return refuseAll(t('errors.noBroker'));
      try {
        cache = broker.topicMetadata();
      } catch (e) {
        return refuseAll(t('errors.broker', { reason: (e as Error).message }));
      }
    } else {
      fixedCount = wholeNumber(config.partitions, NaN);
      if (!(fixedCount >= 1 && fixedCount <= MAX_PARTITIONS)) return refuseAll(t('errors.partitions', { value: String(config.partitions ?? '') }));
    }

    // ---- status ------------------------------------------------------------
    // The last partition is formatted only when shown (at most every STATUS_INTERVAL_MS).
    type Fill = 'green' | 'yellow' | 'red' | 'grey';
    let closed = false;
    let wantFill: Fill = 'green';
    let wantText: string | null = null; // null: the last partition
    let lastPartition = 0;
    let lastCount = 0;
    let lastSource = '';
    let shownFill = '';
    let shownText = '';
    let shownAt = 0;
    let statusTimer: NodeJS.Timeout | undefined;
    const renderStatus = () => {
      statusTimer = undefined;
      if (closed) return;
      shownAt = Date.now();
      const text = wantText ?? t('status.partition', { partition: lastPartition, count: lastCount, source: lastSource });
      if (text === shownText && wantFill === shownFill) return;
      shownText = text;
      shownFill = wantFill;
      node.status({ fill: wantFill, shape: 'dot', text });
    };
    const setStatus = (fill: Fill, text: string | null) => {
      wantFill = fill;
      wantText = text;
      if (statusTimer !== undefined || closed) return;
      const wait = shownAt + STATUS_INTERVAL_MS - Date.now();
      if (wait <= 0) renderStatus();
      else statusTimer = setTimeout(renderStatus, wait);
    };
    const showPartition = (partition: number, count: number, source: string) => {
      lastPartition = partition;
      lastCount = count;
      lastSource = source;
      setStatus('green', null);
    };
    const fixedSource = t('status.fixed');
    const noKeyText = t('status.noKey');
    node.status({ fill: 'grey', shape: 'ring', text: fromBroker ? t('status.readyBroker') : t('status.readyFixed', { count: fixedCount }) });

    // ---- key ---------------------------------------------------------------
    const fail = (job: Job, err: Error) => {
      setStatus('red', t('status.failed', { reason: err.message.slice(0, 60) }));
      job.done(err);
    };

    /** The key's form in msg.key and its hash; throws PartitionKeyError for a key without bytes. */
    const keyed = (value: unknown): Keyed => {
      switch (typeof value) {
        case 'string':
          return { key: value, hash: murmur2String(value) };
        case 'number':
          if (!Number.isFinite(value)) throw new PartitionKeyError(t('errors.keyNumber', { key: keyLabel, value: String(value) }));
          return { key: value, hash: murmur2String(String(value)) };
        case 'bigint':
        case 'boolean': {
          const text = String(value);
          return { key: text, hash: murmur2String(text) };
        }
        case 'object': {
          if (Buffer.isBuffer(value)) return { key: value, hash: murmur2(value) };
          if (value instanceof Uint8Array) {
            const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
            return { key: view, hash: murmur2(view) };
          }
          let json: string | undefined;
          try {
            json = JSON.stringify(value);
          } catch (e) {
            throw new PartitionKeyError(t('errors.keyJson', { key: keyLabel, reason: (e as Error).message }), e);
          }
          if (json === undefined) throw new PartitionKeyError(t('errors.keyJson', { key: keyLabel, reason: 'no JSON text' }));
          return { key: json, hash: murmur2String(json) };
        }
        default:
          throw new PartitionKeyError(t('errors.keyUnsupported', { key: keyLabel, type: describe(value) }));
      }
    };

    const readPath = (msg: Msg): unknown => {
      let v: any = msg;
      const path = keyPath!;
      for (let i = 0; i < path.length; i++) {
        if (v === null || v === undefined) return undefined;
        v = v[path[i]];
      }
      return v;
    };

    /** Calls back with the key's value, synchronously when Node-RED can. */
    const readKey = (msg: Msg, cb: (err: Error | null, value?: unknown) => void) => {
      if (keyPath) return cb(null, readPath(msg));
      const onValue = (err: Error | null, value?: unknown) => {
        if (err) cb(new PartitionKeyError(t('errors.keyEvaluate', { key: keyLabel, reason: err.message }), err), undefined);
        else cb(null, value);
      };
      try {
        if (jsonata) RED.util.evaluateJSONataExpression(jsonata, msg, onValue as never);
        else if (keyType === 'msg') {
          let value: unknown;
          try {
            value = RED.util.getMessageProperty(msg, keyExpr);
          } catch {
            value = undefined; // a missing parent is a missing key
          }
          onValue(null, value);
        } else RED.util.evaluateNodeProperty(keyExpr, keyType, node, msg, onValue as never);
      } catch (e) {
        onValue(e as Error);
      }
    };

    // ---- partition count ---------------------------------------------------
    const lastCounts = new Map<string, number>();
    const noteCount = (topic: string, count: number) => {
      const previous = lastCounts.get(topic);
      if (previous === count) return;
      lastCounts.set(topic, count);
      if (previous !== undefined) node.warn(t('warn.countChanged', { topic, count, previous }));
    };
    const sources = new Map<string, string>();
    const sourceFor = (topic: string): string => {
      let s = sources.get(topic);
      if (s === undefined) {
        s = t('status.broker', { topic });
        if (sources.size > 100) sources.clear();
        sources.set(topic, s);
      }
      return s;
    };

    // ---- output ------------------------------------------------------------
    const deliver = (job: Job, k: Keyed, count: number, source: string) => {
      const msg = job.msg;
      const partition = toPositive(k.hash) % count;
      msg.partition = partition;
      msg.key = k.key;
      if (outputHash) msg.murmur2 = k.hash;
      showPartition(partition, count, source);
      job.send(msg);
      job.done();
    };

    const withoutKey = (job: Job, value: unknown) => {
      if (!passWithoutKey) {
        fail(job, new PartitionKeyError(t('errors.noKey', { key: keyLabel, value: value === null ? 'null' : 'missing' })));
        return;
      }
      const msg = job.msg;
      delete msg.partition;
      delete msg.key;
      if (outputHash) delete msg.murmur2;
      setStatus('grey', noKeyText);
      job.send(msg);
      job.done();
    };

    /** Handles one msg; calls finish() once it has sent or failed it (maybe synchronously). */
    const handle = (job: Job, finish: () => void) => {
      const msg = job.msg;
      let refresh = false;
      if (msg.refreshPartitions !== undefined) {
        refresh = msg.refreshPartitions === true;
        delete msg.refreshPartitions;
      }
      readKey(msg, (err, value) => {
        if (err) {
          fail(job, err);
          return finish();
        }
        if (value === null || value === undefined) {
          withoutKey(job, value);
          return finish();
        }
        let k: Keyed;
        try {
          k = keyed(value);
        } catch (e) {
          fail(job, e as Error);
          return finish();
        }
        if (!cache) {
          deliver(job, k, fixedCount, fixedSource);
          return finish();
        }
        let topic = fixedTopic;
        if (!topic) {
          if (typeof msg.topic !== 'string' || msg.topic === '') {
            fail(job, new PartitionKeyError(t('errors.noTopic')));
            return finish();
          }
          topic = msg.topic;
          const problem = topicNameProblem(topic);
          if (problem) {
            fail(job, new PartitionKeyError(problem));
            return finish();
          }
        }
        const cached = refresh ? undefined : cache.cachedPartitionCount(topic, maxAgeMs);
        if (cached !== undefined) {
          noteCount(topic, cached);
          deliver(job, k, cached, sourceFor(topic));
          return finish();
        }
        if (!lastCounts.has(topic)) setStatus('yellow', t('status.reading', { topic }));
        cache
          .partitionCount(topic, { maxAgeMs, refresh })
          .then(
            (count) => {
              if (closed) return fail(job, new PartitionKeyError(t('errors.closed')));
              noteCount(topic, count);
              deliver(job, k, count, sourceFor(topic));
            },
            (e: Error) => fail(job, e),
          )
          .then(finish, (e: Error) => {
            node.error(e);
            finish();
          });
      });
    };

    // ---- order: msgs leave in the order they came, also when one waits ------
    // for the partition count (or an async key expression); the others queue behind it.
    const queue: Job[] = [];
    let busy = false;
    const pump = () => {
      while (!busy && queue.length > 0) {
        const job = queue.shift()!;
        busy = true;
        let sync = true;
        let finished = false;
        const finish = () => {
          if (finished) return;
          finished = true;
          busy = false;
          if (!sync) pump();
        };
        try {
          handle(job, finish);
        } catch (e) {
          // Not expected; the msg still ends, and the queue goes on.
          if (!finished) {
            job.done(e as Error);
            finish();
          } else node.error(e);
        }
        sync = false;
      }
    };

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      queue.push({ msg: msg as Msg, send, done });
      if (!busy) pump();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (statusTimer !== undefined) clearTimeout(statusTimer);
      statusTimer = undefined;
      for (const job of queue.splice(0)) job.done(new PartitionKeyError(t('errors.closed')));
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('streamsafe-partition-key', PartitionKeyNode as never);
};
