// Partition key node: Node-RED glue around KeyPartitioner (src/lib/kafka/partition-key.ts),
// which computes the partition a keyed record lands on and sets msg.partition and msg.key.
// Here: the settings are checked, the key reader is built from Node-RED's utilities,
// the broker config node lends its topic metadata cache, and input/close are passed on.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { msg, renderMessage, statusPublisher, type StatusValue } from '../../lib/common/status-message';
import {
  invalidStatus,
  KeyPartitioner,
  PartitionKeyError,
  partitionKeySettings,
  readPath,
  type KeyReader,
  type PartitionKeyMsg,
} from '../../lib/kafka/partition-key';
import type { PartitionKeyConfig, PartitionKeySettings } from '../../lib/kafka/partition-key-settings';
import type { TopicMetadataCache } from '../../lib/kafka/topic-metadata';
import type { KafkaBrokerNode } from '../kafka-broker/broker-node';

interface PartitionKeyDef extends NodeDef, PartitionKeyConfig {
  broker: string;
}

type Send = (msg: NodeMessage) => void;
type Done = (err?: Error) => void;

export = function (RED: NodeAPI) {
  function PartitionKeyNode(this: Node, config: PartitionKeyDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const t = (key: string, subs?: Record<string, string | number>) => RED._(`streamsafe-partition-key.${key}`, subs);
    // node.status(), and the status as a message for the editor to show in its own language.
    const setStatus = statusPublisher(node, RED.comms.publish);

    // A node that cannot work still answers every msg, with the reason, so none is lost silently.
    // The status carries the short reason (a message: the editor shows it in its own language).
    const refuseAll = (reason: string, short: StatusValue = reason) => {
      setStatus(invalidStatus(short, t));
      node.error(reason);
      node.on('input', (_msg: NodeMessageInFlow, _send: Send, done: Done) => done(new PartitionKeyError(reason)));
    };
    const refuseWith = (key: string, values?: Record<string, string>) => refuseAll(t(key, values), msg(key, values));

    let settings: PartitionKeySettings;
    let readKey: KeyReader;
    let metadata: TopicMetadataCache | undefined;
    try {
      settings = partitionKeySettings(config, t);
      readKey = keyReader(settings);
    } catch (e) {
      const err = e as Error;
      return refuseAll(err.message, err instanceof PartitionKeyError && err.reason ? err.reason : err.message);
    }
    if (settings.partitions.from === 'broker') {
      const broker = RED.nodes.getNode(config.broker) as KafkaBrokerNode | null;
      if (!broker) return refuseWith('errors.noBroker');
      try {
        metadata = broker.topicMetadata();
      } catch (e) {
        return refuseWith('errors.broker', { reason: (e as Error).message });
      }
    }

    /** Reads the key where the settings say; msg paths are parsed once and walked per msg. */
    function keyReader({ key }: PartitionKeySettings): KeyReader {
      try {
        if (key.type === 'msg' && !/\[\s*msg\b/.test(key.expression)) {
          const path = RED.util.normalisePropertyExpression(key.expression);
          return (msg, cb) => cb(null, readPath(msg, path));
        }
        if (key.type === 'jsonata') {
          const expr = RED.util.prepareJSONataExpression(key.expression, node);
          return (msg, cb) => RED.util.evaluateJSONataExpression(expr, msg as NodeMessage, cb as never);
        }
      } catch (e) {
        const reason = msg('errors.keyExpression', { key: key.label, reason: (e as Error).message });
        throw new PartitionKeyError(renderMessage(reason, t), e, reason);
      }
      if (key.type === 'msg') {
        // A path with a nested msg reference ("payload[msg.field]") is left to Node-RED.
        return (msg, cb) => {
          let value: unknown;
          try {
            value = RED.util.getMessageProperty(msg as NodeMessage, key.expression);
          } catch {
            value = undefined; // a missing parent is a missing key
          }
          cb(null, value);
        };
      }
      return (msg, cb) => RED.util.evaluateNodeProperty(key.expression, key.type, node, msg as NodeMessage, cb as never);
    }

    const partitioner = new KeyPartitioner({
      settings,
      readKey,
      t,
      status: setStatus,
      warn: (text) => node.warn(text),
      error: (err) => node.error(err),
      metadata,
    });

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      partitioner.receive(msg as PartitionKeyMsg, send as (msg: PartitionKeyMsg) => void, done);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      partitioner.close();
      done();
    });
  }

  RED.nodes.registerType('streamsafe-partition-key', PartitionKeyNode as never);
};
