// X (Twitter) API v2 emulator for tests, the demo and benchmarks. Not part of the package.
//
//   const emu = await startXEmulator({ postsPerSecond: 200, keepAliveMs: 500 });
//   emu.addRules([{ value: 'kafka OR lang:ko', tag: 'demo' }]);
//   const client = emulatorClient(emu);            // twitter-api-v2, pointed at emu.url
//   emu.faults.drop({ afterPosts: 100 });            // or POST /__control/faults {"type":"drop","afterPosts":100}
//   ...
//   assert.deepEqual(receivedIds, emu.emittedIds());
//   await emu.stop();
//
// README.md beside this file describes the endpoints, the faults and the control endpoint.
export {
  startXEmulator,
  XEmulator,
  FaultController,
  type XEmulatorOptions,
  type ApiKey,
  type StreamKind,
  type EndpointName,
  type StreamConnectionInfo,
  type RequestLogEntry,
  type EmulatorStats,
  type StoredRule,
} from './emulator';
export type {
  FaultSpec,
  StreamFaultSpec,
  ConnectFaultSpec,
  StreamSelector,
  RequestSelector,
  ArmedFault,
  FiredFault,
} from './faults';
export { PostGenerator, RecordSerializer, type Post, type Author, type Lang } from './posts';
export { compileQuery, validateQuery, RuleSyntaxError, MAX_RULE_LENGTH } from './rules';
export { Timeline, TWEPOCH, snowflakeTime, snowflakeAt } from './timeline';
export * as problems from './problems';
export * as specParams from './spec-params';
export type { AccessLevel, RestSpecOptions } from './spec-params';
export { StreamRecordReader, type StreamEvent } from './reader';
