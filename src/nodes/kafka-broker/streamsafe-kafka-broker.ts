// Kafka broker config node: one kafkajs client per config node, shared by the
// nodes that use it (register/deregister as the core MQTT broker node does).
import type { Node, NodeAPI } from 'node-red';
import { Kafka } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { connectionSettings, kafkaConfig, parseBrokerList, SASL_MECHANISMS, type BrokerSettings, type SaslMechanism } from '../../lib/kafka/client-config';
import { TopicMetadataCache } from '../../lib/kafka/topic-metadata';
import type { KafkaBrokerDef, KafkaBrokerNode, TlsConfigNode } from './broker-node';

function ms(value: unknown, fallback: number): number {
  const n = Number(value);
  return value === '' || value === undefined || !Number.isFinite(n) || n <= 0 ? fallback : Math.round(n);
}

export = function (RED: NodeAPI) {
  function KafkaBrokerConfigNode(this: KafkaBrokerNode, config: KafkaBrokerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const users = new Map<string, Node>();
    let client: Kafka | undefined;
    let topicMetadata: TopicMetadataCache | undefined;

    let settings: BrokerSettings | undefined;
    try {
      const mechanism = (config.saslMechanism || 'none') as SaslMechanism;
      if (!SASL_MECHANISMS.includes(mechanism)) throw new Error(`Unknown SASL mechanism "${mechanism}"`);
      const creds = node.credentials || {};
      if (mechanism !== 'none' && (!creds.username || !creds.password)) {
        throw new Error(`SASL ${mechanism.toUpperCase()} needs a username and a password`);
      }
      let tls: BrokerSettings['tls'];
      if (config.usetls) {
        tls = true;
        if (config.tls) {
          const tlsNode = RED.nodes.getNode(config.tls) as TlsConfigNode | null;
          if (!tlsNode) throw new Error('The TLS configuration node is missing');
          const opts: ConnectionOptions = {};
          tlsNode.addTLSOptions(opts);
          tls = opts;
        }
      }
      settings = {
        brokers: parseBrokerList(config.brokers),
        clientId: (config.clientId || '').trim() || `node-red-${node.id}`,
        connectionTimeoutMs: ms(config.connectionTimeout, 10000),
        requestTimeoutMs: ms(config.requestTimeout, 30000),
        tls,
        sasl: mechanism === 'none' ? undefined : { mechanism, username: creds.username!, password: creds.password! },
      };
    } catch (e) {
      node.settingsError = (e as Error).message;
      node.error(RED._('streamsafe-kafka-broker.errors.invalid', { reason: node.settingsError }));
    }

    const logSink = {
      error: (m: string) => node.error(m),
      warn: (m: string) => node.warn(m),
      info: (m: string) => node.log(m),
      debug: (m: string) => node.debug(m),
    };
    node.kafka = () => {
      if (!settings) throw new Error(node.settingsError ?? 'Kafka broker settings are invalid');
      client ??= new Kafka(kafkaConfig(settings, logSink));
      return client;
    };

    node.connectionSettings = () => {
      if (!settings) throw new Error(node.settingsError ?? 'Kafka broker settings are invalid');
      return connectionSettings(settings, logSink);
    };

    node.topicMetadata = () => {
      const kafka = node.kafka();
      topicMetadata ??= new TopicMetadataCache(() => kafka.admin());
      return topicMetadata;
    };

    node.register = (user) => {
      users.set(user.id, user);
    };
    node.deregister = (user, done) => {
      users.delete(user.id);
      done();
    };

    node.on('close', (done: () => void) => {
      // Each user closes its own producer; the shared client holds no socket itself.
      users.clear();
      client = undefined;
      const closing = topicMetadata;
      topicMetadata = undefined;
      if (closing) closing.close().then(() => done(), () => done());
      else done();
    });
  }

  RED.nodes.registerType('streamsafe-kafka-broker', KafkaBrokerConfigNode as never, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
    },
  });
};
