#!/usr/bin/env node
// `npm start`: the demo. Builds the package, starts an embedded Kafka broker
// (the tests' own, from Maven Central jars) and the X API v2 emulator, and
// Node-RED on http://127.0.0.1:1880 with the example flows deployed against
// them: X stream → partition key → Kafka producer runs without an X account.
// Ctrl-C stops everything.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { prepareUserDir } = require('./node-red-userdir');

const root = path.resolve(__dirname, '..');
const port = Number(process.env.PORT || 1880);
const userDir = process.env.DEMO_USER_DIR || path.join(root, '.node-red-demo');
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

/** Runs a support CLI that prints one JSON line when ready and stops when our stdin pipe closes. */
function startService(name, script, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args, '--stop-on-stdin-eof'], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    child.on('exit', (code) => {
      if (code) reject(new Error(`${name} exited with ${code}`));
    });
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        resolve(JSON.parse(line));
      } catch (e) {
        reject(new Error(`unexpected output from ${name}: ${line}`));
      }
    });
  });
}

/** The example flows, pointed at the embedded Kafka and the X emulator. */
function demoFlows(kafka, x) {
  const flows = [];
  const credentials = {};
  for (const file of fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).sort()) {
    const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8'));
    for (const n of flow) {
      if (n.type === 'streamsafe-kafka-broker') n.brokers = kafka.brokers.join(',');
      if (n.type === 'streamsafe-x-credentials') {
        n.baseUrl = x.url;
        n.authType = 'bearer';
        credentials[n.id] = { bearerToken: x.bearerToken };
      }
    }
    flows.push(...flow);
  }
  return { flows, credentials };
}

async function main() {
  if (process.env.DEMO_NO_BUILD !== '1') {
    log('building');
    const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status || 1);
  }

  log('starting Kafka (first run resolves the jars with Maven) and the X API emulator');
  const [kafka, x] = await Promise.all([
    startService('Kafka', 'test/support/kafka/cli.ts', ['start', '--mode', 'single', '--name', 'demo', '--config', 'num.partitions=6']),
    startService('the X emulator', 'test/support/x-emulator/cli.ts', ['--port', '0', '--rate', String(process.env.DEMO_POSTS_PER_SECOND || 20)]),
  ]);
  log(`Kafka is up at ${kafka.brokers.join(',')}; the X emulator at ${x.url} (no X account needed)`);
  // One line for tools (the demo test) to find the services.
  process.stdout.write(`[demo] services ${JSON.stringify({ brokers: kafka.brokers, x: x.url })}\n`);

  const { flows, credentials } = demoFlows(kafka, x);
  const settings = prepareUserDir(userDir, { flows, port });
  // credentialSecret is off for the demo: Node-RED reads these as they are.
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials, null, 2));
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
