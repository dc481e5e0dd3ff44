#!/usr/bin/env node
// `npm start`: the demo. Builds the package, starts an embedded Kafka broker
// (the tests' own, from Maven Central jars), and Node-RED on
// http://127.0.0.1:1880 with the example flow deployed against that broker.
// Ctrl-C stops everything.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { prepareUserDir } = require('./node-red-userdir');

const root = path.resolve(__dirname, '..');
const port = Number(process.env.PORT || 1880);
const userDir = path.join(root, '.node-red-demo');
const children = [];

function log(msg) {
  process.stdout.write(`[demo] ${msg}\n`);
}

function stopAll(code) {
  for (const c of children.reverse()) {
    if (c.exitCode === null) c.kill('SIGTERM');
  }
  setTimeout(() => process.exit(code), 3000).unref();
}
process.on('SIGINT', () => {
  log('stopping');
  stopAll(0);
});
process.on('SIGTERM', () => stopAll(0));

function startKafka() {
  return new Promise((resolve, reject) => {
    const kafka = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/kafka/cli.ts', 'start', '--mode', 'single', '--name', 'demo', '--config', 'num.partitions=6', '--stop-on-stdin-eof'],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(kafka);
    kafka.on('exit', (code) => {
      if (code) reject(new Error(`Kafka exited with ${code}`));
    });
    const lines = readline.createInterface({ input: kafka.stdout });
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line));
      } catch (e) {
        reject(new Error(`unexpected output from the Kafka launcher: ${line}`));
      }
    });
  });
}

async function main() {
  log('building');
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status || 1);

  log('starting Kafka (first run resolves the jars with Maven)');
  const kafka = await startKafka();
  log(`Kafka is up at ${kafka.brokers.join(',')}`);

  const flows = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'produce-to-kafka.json'), 'utf8'));
  for (const n of flows) if (n.type === 'streamsafe-kafka-broker') n.brokers = kafka.brokers.join(',');
  const settings = prepareUserDir(userDir, { flows, port });
  const red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', settings], {
    cwd: root,
    stdio: 'inherit',
  });
  children.push(red);
  red.on('exit', (code) => {
    log(`Node-RED exited (${code})`);
    stopAll(code || 0);
  });
  log(`Node-RED: http://127.0.0.1:${port}  (Ctrl-C stops Node-RED and Kafka)`);
}

main().catch((e) => {
  process.stderr.write(`[demo] ${e.stack || e}\n`);
  stopAll(1);
});
