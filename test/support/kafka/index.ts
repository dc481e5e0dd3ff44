// Entry point of the Kafka test support: real Apache Kafka 4.x (KRaft) brokers started
// and stopped by the tests, plus helpers to inspect what they stored.
export { startKafka } from './cluster';
export type { KafkaHandle, KafkaMode, SaslSslKafkaHandle, StartKafkaOptions } from './cluster';
export { dumpLogSegments, parseDumpLogSegments, DUMP_LOG_SEGMENTS_CLASS } from './dump';
export type { BatchInfo, RecordInfo, DumpLogSegmentsOptions } from './dump';
export { javaRun, javaSpawn, defaultJvmArgs, brokerJvmArgs } from './java';
export type { JavaRunOptions, JavaRunResult, JavaSpawnOptions } from './java';
export { kafkaClasspath, kafkaVersion, cacheDir } from './classpath';
export { activeController, describeQuorum, parseQuorumStatus, METADATA_QUORUM_CLASS } from './quorum';
export type { QuorumStatus, QuorumHandle, QuorumOptions } from './quorum';
export {
  consoleConsume,
  parseConsoleOutput,
  topicOffsets,
  CONSOLE_CONSUMER_CLASS,
  GET_OFFSET_SHELL_CLASS,
  CONSOLE_FIELD_SEPARATOR,
  CONSOLE_RECORD_END,
  CONSOLE_NULL,
} from './console-consumer';
export type { ConsoleRecord, ConsoleConsumeOptions, PartitionOffsets } from './console-consumer';
export { getTestKafka, NO_BROKER_LOGS_REASON, SHARED_KAFKA_ENV } from './shared';
export type { TestKafka } from './shared';
export { adminClient, isRetriable, partitionLeaders, readCluster, waitForPartitions } from './admin';
