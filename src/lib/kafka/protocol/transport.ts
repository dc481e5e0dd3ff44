// The producer's one crossing into the network: the requests the sender
// makes (Produce, Metadata, InitProducerId), each at the highest version both
// this package and the broker speak, sent on the broker's connection.

import type { ProduceCall, SenderTransport } from '../producer/sender';
import { ErrorCode, KafkaProtocolError } from './error-codes';
import { initProducerIdRequest, INIT_PRODUCER_ID_MAX_VERSION, type InitProducerIdResponse } from './init-producer-id';
import { ApiKey } from './kafkajs';
import { METADATA_MAX_VERSION, METADATA_MIN_VERSION, metadataRequest, type BrokerInfo, type MetadataResponse } from './metadata';
import type { KafkaNetwork } from './network';
import { PRODUCE_MAX_VERSION, PRODUCE_MIN_VERSION, produceRequest, type ProduceResponse } from './produce';

/** The broker cannot take a request this package writes (it is older than Kafka 1.0). */
function unsupported(what: string, node: string): Error {
  return new KafkaProtocolError(ErrorCode.UNSUPPORTED_VERSION, null, `${node} speaks no ${what} version this producer writes`);
}

export class KafkaTransport implements SenderTransport {
  constructor(
    readonly network: KafkaNetwork,
    /** how long the client waits for a Produce answer (request.timeout.ms) */
    private readonly requestTimeoutMs: number,
    /** whether the broker may create a topic the producer names (Java: allow.auto.create.topics) */
    private readonly allowAutoTopicCreation = true,
  ) {}

  isReady(node: number): boolean {
    return this.network.isReady(node);
  }

  connect(node: number): void {
    this.network.connect(node);
  }

  connectDelay(node: number): number {
    return this.network.connectDelay(node);
  }

  leastLoadedNode(): number | undefined {
    return this.network.leastLoadedNode();
  }

  nextConnectDelay(): number {
    return this.network.nextConnectDelay();
  }

  setNodes(brokers: BrokerInfo[]): void {
    this.network.setNodes(brokers);
  }

  describe(node: number): string {
    return this.network.describe(node);
  }

  abort(node: number, err: Error): void {
    this.network.abort(node, err);
  }

  produce(node: number, call: ProduceCall): Promise<ProduceResponse | undefined> {
    const version = this.network.apiVersion(node, ApiKey.Produce, PRODUCE_MIN_VERSION, PRODUCE_MAX_VERSION);
    if (version === undefined) return Promise.reject(unsupported('Produce', this.describe(node)));
    const request = produceRequest(
      version,
      { transactionalId: null, acks: call.acks, timeout: call.timeoutMs, topics: call.topics },
      this.requestTimeoutMs,
    );
    return this.network.send<ProduceResponse | undefined>(node, request);
  }

  metadata(node: number, topics: string[]): Promise<MetadataResponse> {
    const version = this.network.apiVersion(node, ApiKey.Metadata, METADATA_MIN_VERSION, METADATA_MAX_VERSION);
    if (version === undefined) return Promise.reject(unsupported('Metadata', this.describe(node)));
    return this.network.send<MetadataResponse>(node, metadataRequest(version, topics, this.allowAutoTopicCreation));
  }

  initProducerId(node: number): Promise<InitProducerIdResponse> {
    const version = this.network.apiVersion(node, ApiKey.InitProducerId, 0, INIT_PRODUCER_ID_MAX_VERSION);
    if (version === undefined) {
      return Promise.resolve({ errorCode: ErrorCode.UNSUPPORTED_VERSION, producerId: -1n, producerEpoch: -1, throttleTimeMs: 0 });
    }
    return this.network.send<InitProducerIdResponse>(node, initProducerIdRequest(version));
  }
}
