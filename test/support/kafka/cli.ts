// Command line for the Kafka test support, used by scripts/test.js and handy by hand:
//
//   node --import tsx test/support/kafka/cli.ts start [--mode single|cluster|sasl-ssl] [--name N]
//        [--brokers 3] [--config key=value ...] [--state file.json] [--stop-on-stdin-eof]
//     Starts Kafka, prints one JSON line (brokers, logDirs, logFile, ...) and keeps running
//     until SIGINT/SIGTERM (or stdin EOF with --stop-on-stdin-eof: the parent died), then
//     stops it. For a manual session: export KAFKA_BROKERS=<brokers joined by ','>.
//
//   node --import tsx test/support/kafka/cli.ts dump <logDir> <topic> [partition]
//     Prints the DumpLogSegments batches of a partition as JSON.
import * as fs from 'node:fs';
import { startKafka, type KafkaMode } from './cluster';
import { dumpLogSegments } from './dump';

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(
    'usage: cli.ts start [--mode single|cluster|sasl-ssl] [--name N] [--brokers N] [--config k=v]... [--state FILE] [--stop-on-stdin-eof]\n' +
      '       cli.ts dump <logDir> <topic> [partition]\n',
  );
  process.exit(2);
}

async function start(args: string[]): Promise<void> {
  let mode: KafkaMode = 'single';
  let name: string | undefined;
  let stateFile: string | undefined;
  let brokerCount: number | undefined;
  let watchStdin = false;
  const brokerConfig: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => args[++i] ?? usage(`${a} needs a value`);
    if (a === '--mode') mode = value() as KafkaMode;
    else if (a === '--name') name = value();
    else if (a === '--state') stateFile = value();
    else if (a === '--brokers') brokerCount = Number(value());
    else if (a === '--stop-on-stdin-eof') watchStdin = true;
    else if (a === '--config') {
      const kv = value();
      const eq = kv.indexOf('=');
      if (eq <= 0) usage(`--config wants key=value, got ${kv}`);
      brokerConfig[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else usage(`unknown option ${a}`);
  }
  if (!['single', 'cluster', 'sasl-ssl'].includes(mode)) usage(`unknown mode ${mode}`);

  const kafka = await startKafka({ mode, name, brokerConfig, brokerCount });
  let stopping: Promise<void> | undefined;
  const stop = (code: number): void => {
    stopping ??= kafka
      .stop()
      .catch((err) => {
        process.stderr.write(`stopping Kafka: ${(err as Error).message}\n`);
      })
      .finally(() => {
        if (stateFile) fs.rmSync(stateFile, { force: true });
        process.exit(code);
      });
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGHUP', () => stop(0));
  if (watchStdin) {
    // Managed by a parent (scripts/test.js): a terminal Ctrl-C reaches us too, but the parent
    // stops us via stdin once its tests are done, after saving the broker log if they failed.
    process.removeAllListeners('SIGINT');
    process.on('SIGINT', () => {});
    process.stdin.on('end', () => stop(0));
    process.stdin.on('error', () => stop(0));
    process.stdin.resume();
  } else {
    process.on('SIGINT', () => stop(0));
  }

  const json = JSON.stringify(kafka); // the handle's data; JSON drops its methods
  if (stateFile) fs.writeFileSync(stateFile, json + '\n');
  process.stdout.write(json + '\n');
  // Keep running; the signal/stdin handlers above end the process.
  setInterval(() => {}, 1 << 30);
}

async function dump(args: string[]): Promise<void> {
  const [logDir, topic, partition] = args;
  if (!logDir || !topic) usage('dump needs <logDir> <topic>');
  const batches = await dumpLogSegments(logDir, topic, partition ? Number(partition) : 0);
  process.stdout.write(JSON.stringify(batches, null, 2) + '\n');
}

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => Promise<void>> = { start, dump };
if (!command || !commands[command]) usage(command ? `unknown command ${command}` : undefined);
commands[command](rest).catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
