// Readiness probe: a broker is ready when a real client gets metadata from it listing
// the expected (unfenced) brokers. Metadata responses only list unfenced brokers, so this
// also means the controller accepted the broker and it can lead partitions.
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';

export interface ProbeOptions {
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
}

/** Node ids of the brokers `address` reports, or throws if it does not answer. */
export async function describeBrokers(address: string, opts: ProbeOptions = {}): Promise<number[]> {
  const kafka = new Kafka({
    clientId: 'streamsafe-test-probe',
    brokers: [address],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
    ssl: opts.ssl,
    sasl: opts.sasl,
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.map((b) => b.nodeId);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
