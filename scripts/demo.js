#!/usr/bin/env node
// `npm start`: the demo. Installs what node_modules lacks, builds the package, starts an
// embedded Kafka broker (the tests' own, from Maven Central jars) and the X API v2
// emulator, and Node-RED on http://127.0.0.1:1880 with the example flows sharing one
// broker config node: X stream → partition key → Kafka producer runs without an X
// account. The flows live in the demo's user dir and are kept between runs (only the
// broker and X addresses, new each run, are set again); `--reset` writes them afresh.
// Ctrl-C stops everything.
//
//   npm start [-- --reset]
//   PORT=1881  DEMO_USER_DIR=dir  DEMO_POSTS_PER_SECOND=20  DEMO_RESET=1  DEMO_NO_BUILD=1
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { nodeProblem, ensurePackages, javaProblems, portFree, nextFreePort } = require('./ensure-installed');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const port = Number(process.env.PORT || 1880);
const userDir = path.resolve(process.env.DEMO_USER_DIR || path.join(root, '.node-red-demo'));
const reset = args.includes('--reset') || process.env.DEMO_RESET === '1';
const postsPerSecond = process.env.DEMO_POSTS_PER_SECOND || '20';
const children = [];
const startedAt = Date.now();

function log(msg) {
  process.stdout.write(`[demo] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`[demo] ${msg}\n`);
  stopAll(1);
}

const shown = (p) => {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
};

let stopping = false;
function stopAll(code) {
  if (stopping) return;
  stopping = true;
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  if (running.length === 0) process.exit(code);
  for (const c of running.reverse()) c.kill('SIGTERM');
  let left = running.length;
  for (const c of running) {
    c.once('exit', () => {
      if (--left === 0) {
        log('stopped');
        process.exit(code);
      }
    });
  }
  // Kafka's JVM takes a few seconds to shut down; do not hang on a stuck child.
  setTimeout(() => {
    for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
    process.exit(code);
  }, 20_000).unref();
}
process.on('SIGINT', () => {
  if (!stopping) log('stopping Node-RED, Kafka and the X emulator');
  stopAll(0);
});
process.on('SIGTERM', () => stopAll(0));

async function portMessage(p) {
  const next = await nextFreePort(p);
  return `port ${p} is in use (another Node-RED or demo?): ${next ? `PORT=${next} npm start` : 'choose another with PORT=<port> npm start'}`;
}

/** Runs a support CLI that prints one JSON line when ready and stops when our stdin pipe closes. */
function startService(name, script, serviceArgs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...serviceArgs, '--stop-on-stdin-eof'], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    child.on('exit', (code, signal) => {
      if (!stopping) reject(new Error(`${name} exited (${code ?? signal}); its errors are above`));
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

/** The flows' topic, made before they start: the partition key node reads its partition count and creates nothing. */
async function createTopic(brokers, topic, numPartitions) {
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ brokers, clientId: 'streamsafe-demo', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: false });
    if (created) log(`created the topic ${topic} (${numPartitions} partitions)`);
    // kafkajs's waitForLeaders gives up when a busy broker answers UNKNOWN_TOPIC_OR_PARTITION
    // for a moment after the creation: wait for the leaders here, for up to 30 s.
    const deadline = Date.now() + 30000;
    for (;;) {
      const ready = await admin.fetchTopicMetadata({ topics: [topic] }).then(
        (md) => md.topics[0].partitions.every((p) => p.leader >= 0),
        (e) => { if (e.retriable) return false; throw e; },
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`the topic ${topic} has partitions without a leader after 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * flows.json and flows_cred.json in the user dir: the example flows on the first run (or
 * with --reset), else the user's own, with the demo's broker and X credentials nodes
 * pointed at this run's services.
 */
function prepareFlows(kafka, x) {
  const { buildDemoFlows, repoint, readFlowFile, fromOlderDemo } = require('./demo-flows');
  const flowFile = path.join(userDir, 'flows.json');
  const credFile = path.join(userDir, 'flows_cred.json');
  const services = { brokers: kafka.brokers, xUrl: x.url, bearerToken: x.bearerToken };
  fs.mkdirSync(userDir, { recursive: true });

  let file;
  if (fs.existsSync(flowFile) && !reset) {
    try {
      file = readFlowFile(flowFile);
    } catch (e) {
      log(`keeping ${shown(flowFile)} as it is: it could not be read (${e.message}); \`npm start -- --reset\` writes the example flows again`);
      return;
    }
  }
  const older = file !== undefined && fromOlderDemo(file.flows);
  if (file && !older) {
    let credentials = {};
    try {
      credentials = JSON.parse(fs.readFileSync(credFile, 'utf8'));
    } catch {
      // none yet, or unreadable: the demo's own is all it needs
    }
    const found = repoint(file.flows, credentials, services);
    fs.writeFileSync(flowFile, JSON.stringify(file.wrap(file.flows), null, 4));
    fs.writeFileSync(credFile, JSON.stringify(credentials, null, 4));
    const what = [
      found.broker ? `the broker node "demo Kafka" at ${kafka.brokers.join(',')}` : '',
      found.x ? `the X credentials at the emulator ${x.url}` : '',
    ].filter(Boolean);
    log(`keeping your flows in ${shown(flowFile)} (edits are kept between runs)${what.length ? `; pointing ${what.join(' and ')}` : '; the demo broker and X nodes are gone from them, nothing re-pointed'}`);
    log('`npm start -- --reset` (or DEMO_RESET=1) puts the example flows back');
    return;
  }

  if (fs.existsSync(flowFile)) {
    const backup = `${flowFile}.before-reset`;
    fs.copyFileSync(flowFile, backup);
    if (older) log(`${shown(flowFile)} was written by an older npm start (one broker node per example, rewritten at every start): writing the example flows; the old file is kept as ${shown(backup)}`);
    else log(`--reset: your previous flows are saved as ${shown(backup)}`);
  }
  const { flows, tabs } = buildDemoFlows();
  const credentials = {};
  repoint(flows, credentials, services);
  fs.writeFileSync(flowFile, JSON.stringify(flows, null, 4));
  fs.writeFileSync(credFile, JSON.stringify(credentials, null, 4));
  const running = tabs.filter((t) => t.enabled).map((t) => `"${t.label}"`);
  const off = tabs.filter((t) => !t.enabled).map((t) => `"${t.label}"`);
  log(`wrote the example flows to ${shown(flowFile)}: ${running.join(', ')} runs${off.length ? `; ${off.join(' and ')} are there disabled` : ''}; one broker config node for all`);
  log('your edits there are kept on the next npm start; `npm start -- --reset` (or DEMO_RESET=1) starts over');
}

async function main() {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 11).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
    return;
  }
  const unknown = args.filter((a) => !['--reset', '--help', '-h'].includes(a));
  if (unknown.length) return fail(`unknown option ${unknown.join(' ')}: npm start [-- --reset]  (npm start -- --help says more)`);
  const nodeIssue = nodeProblem(20);
  if (nodeIssue) return fail(nodeIssue);
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) return fail(`PORT=${process.env.PORT} is not a port number`);
  if (!(await portFree(port))) return fail(await portMessage(port));

  let installed = false;
  if (process.env.DEMO_NO_INSTALL !== '1') {
    try {
      installed = ensurePackages(log);
    } catch (e) {
      return fail(e.message);
    }
  }
  // npm ci has just built it (the package's prepare script).
  if (process.env.DEMO_NO_BUILD !== '1' && !installed) {
    log('building (TypeScript → dist/)');
    const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) return fail(`the build failed (${build.error ? build.error.message : `exit ${build.status}`}); the reason is above`);
  }

  const problems = javaProblems();
  if (problems.length) return fail(`the embedded Kafka broker cannot run:\n${problems.map((p) => `  - ${p}`).join('\n')}\nthen run npm start again.`);

  const { ensureKafkaJars } = require('./kafka-jars');
  try {
    await ensureKafkaJars(log);
  } catch (e) {
    return fail(e.message);
  }

  log('starting Kafka and the X API emulator');
  const [kafka, x] = await Promise.all([
    startService('Kafka', 'test/support/kafka/cli.ts', ['start', '--mode', 'single', '--name', 'demo', '--config', 'num.partitions=6']),
    startService('the X emulator', 'test/support/x-emulator/cli.ts', ['--port', '0', '--rate', postsPerSecond]),
  ]);
  log(`Kafka is up at ${kafka.brokers.join(',')} (a fresh broker each run); the X emulator at ${x.url} posting ${postsPerSecond} posts/s, some matching the flow's rules (no X account needed)`);
  // One line for tools (the demo tests) to find the services.
  process.stdout.write(`[demo] services ${JSON.stringify({ brokers: kafka.brokers, x: x.url })}\n`);

  await createTopic(kafka.brokers, 'tweets', 6);
  prepareFlows(kafka, x);
  const { prepareUserDir } = require('./node-red-userdir');
  const settings = prepareUserDir(userDir, { flows: null, port });
  // The port was free at the start; Kafka took a while.
  if (!(await portFree(port))) return fail(await portMessage(port));

  const red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', settings], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(red);
  let ready = false;
  readline.createInterface({ input: red.stdout }).on('line', (line) => {
    process.stdout.write(line + '\n');
    if (!ready && /Started flows/.test(line)) {
      ready = true;
      log(`ready in ${Math.round((Date.now() - startedAt) / 1000)} s: open http://127.0.0.1:${port}`);
      log('  the "X stream to Kafka" tab runs; the debug sidebar (bug icon, top right) shows each post as it lands in Kafka:');
      log('  "@author: text → tweets-<partition>@<offset>"; the "Read back the X stream" tab reads them back from Kafka');
      log('  (kafka consumer → debug "read back" and kafka commit). Ctrl-C stops Node-RED, Kafka and the X emulator.');
    }
  });
  red.on('exit', (code, signal) => {
    if (stopping) return;
    log(`Node-RED exited (${code ?? signal})`);
    stopAll(code || 0);
  });
}

main().catch((e) => fail(e.stack || String(e)));
