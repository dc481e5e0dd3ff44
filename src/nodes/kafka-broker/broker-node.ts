// Types shared by the broker config node and the nodes that use it.
import type { Kafka } from 'kafkajs';
import type { Node, NodeDef } from 'node-red';
import type { ConnectionOptions } from 'node:tls';
import type { BrokerSettings, SaslMechanism } from '../../lib/kafka/client-config';
import type { ConnectionSettings } from '../../lib/kafka/protocol/kafkajs';
import type { TopicMetadataCache } from '../../lib/kafka/topic-metadata';

export interface KafkaBrokerDef extends NodeDef {
  brokers: string;
  clientId: string;
  connectionTimeout: string;
  requestTimeout: string;
  usetls: boolean;
  tls: string;
  saslMechanism: SaslMechanism;
}

export interface Credentials {
  username?: string;
  password?: string;
}

export interface TlsConfigNode extends Node {
  addTLSOptions(opts: ConnectionOptions): void;
}

export interface StatusTarget {
  status(s: { fill?: string; shape?: string; text?: string }): void;
}

export interface KafkaBrokerNode extends Node<Credentials> {
  /** The shared kafkajs client (admin and metadata lookups); throws with the reason when the settings are unusable. */
  kafka(): Kafka;
  /** Settings for a producer's own connections; throws like kafka(). */
  connectionSettings(): ConnectionSettings;
  /** The checked settings, or undefined when they are unusable (settingsError says why). */
  settings(): BrokerSettings | undefined;
  /** Why the settings are unusable, in the runtime's language. */
  settingsError?: string;
  register(user: Node): void;
  deregister(user: Node, done: () => void): void;
  /**
   * Partition counts of topics, cached (one admin client from the shared kafkajs client,
   * created on first use, closed with this node). Throws like kafka() when the settings are unusable.
   */
  topicMetadata(): TopicMetadataCache;
}

