// One Kafka for the whole test run. In order of preference:
//   1. KAFKA_BROKERS=host:port,...  an external cluster (no access to its files);
//   2. STREAMSAFE_TEST_KAFKA        JSON from scripts/test.js, which started one broker for all files;
//   3. otherwise (a file run on its own) a 'single' broker started lazily, killed on exit.
import { startKafka, type KafkaHandle } from './cluster';

export interface TestKafka {
  brokers: string[];
  /** Broker data dir for DumpLogSegments; undefined for an external cluster. */
  logDir?: string;
  /** Broker log file; undefined for an external cluster. */
  logFile?: string;
  /** true when the cluster comes from KAFKA_BROKERS. */
  external: boolean;
}

/** The env var scripts/test.js uses to hand the shared broker to test processes. */
export const SHARED_KAFKA_ENV = 'STREAMSAFE_TEST_KAFKA';

/** Skip reason for tests that need broker-side files. */
export const NO_BROKER_LOGS_REASON =
  'needs the broker log dir (DumpLogSegments), which an external KAFKA_BROKERS cluster does not expose';

let pending: Promise<TestKafka> | undefined;

export function getTestKafka(): Promise<TestKafka> {
  pending ??= resolveTestKafka();
  return pending;
}

async function resolveTestKafka(): Promise<TestKafka> {
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external) {
    const brokers = external.split(',').map((b) => b.trim()).filter(Boolean);
    return { brokers, external: true };
  }
  const shared = process.env[SHARED_KAFKA_ENV];
  if (shared) {
    const info = JSON.parse(shared) as { brokers: string[]; logDirs?: string[]; logDir?: string; logFile?: string };
    return { brokers: info.brokers, logDir: info.logDir ?? info.logDirs?.[0], logFile: info.logFile, external: false };
  }
  // Started for this process only. The broker is unref'ed and killed by the exit hook, so
  // test files need no teardown and the process still exits when its tests are done.
  const lazy: KafkaHandle = await startKafka({ mode: 'single', name: 'lazy' });
  return { brokers: lazy.brokers, logDir: lazy.logDirs[0], logFile: lazy.logFile, external: false };
}
