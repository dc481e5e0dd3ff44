#!/usr/bin/env node
// `npm test`: build, start ONE Kafka broker for the whole run, run the test files with
// Node's test runner (through tsx), stop the broker, exit with the runner's code.
//
//   npm test                                 all of test/{unit,integration,nodes}/**/*.test.ts
//   npm test -- test/unit/foo.test.ts        only these files (directories are expanded)
//   npm test -- --test-name-pattern=acks     other flags go to `node --test`
//   npm test -- --no-build                   skip `npm run build`
//   npm test -- --node-red-5 test/nodes/x    also run the named node tests on Node-RED 5
//
// The full run has two legs: everything on this Node with the Node-RED 4 devDependency,
// then test/nodes again on Node-RED 5 with Node 22 (installed into the cache by
// scripts/node-red-5.js; STREAMSAFE_SKIP_NODE_RED_5=1 leaves it out). The last line
// sums both: "N passed, N failed, N skipped".
//
// KAFKA_BROKERS=host:port,... uses that cluster instead of starting one (tests needing
// broker files then skip). STREAMSAFE_KEEP_KAFKA=1 keeps the broker's temp dir.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { runBuild } = require('./npm-build');
const readline = require('readline');

const root = path.resolve(__dirname, '..');
const testRoots = ['test/unit', 'test/integration', 'test/nodes', 'test/browser'];
const LOG_TAIL_LINES = 80;

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  if (fs.statSync(dir).isFile()) return [dir];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(p));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

function parseArgs(argv) {
  const files = [];
  const flags = [];
  let build = true;
  let nodeRed5;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-build') build = false;
    else if (a === '--node-red-5') nodeRed5 = true;
    else if (a === '--no-node-red-5') nodeRed5 = false;
    else if (a.startsWith('-')) {
      flags.push(a);
      // `--flag value`: a following word that is not an existing path belongs to the flag.
      const next = argv[i + 1];
      if (!a.includes('=') && next !== undefined && !next.startsWith('-') && !fs.existsSync(path.resolve(root, next))) {
        flags.push(next);
        i++;
      }
    } else {
      const p = path.resolve(root, a);
      if (!fs.existsSync(p)) {
        console.error(`test.js: no such test file or directory: ${a}`);
        process.exit(2);
      }
      files.push(...findTests(p));
    }
  }
  const selected = argv.some((a) => !a.startsWith('-') && fs.existsSync(path.resolve(root, a)));
  // The Node-RED 5 leg runs with the full suite; with named files only if asked (--node-red-5).
  if (nodeRed5 === undefined) nodeRed5 = !selected && process.env.STREAMSAFE_SKIP_NODE_RED_5 !== '1';
  return { files: selected ? files : testRoots.flatMap((d) => findTests(path.join(root, d))), flags, build, nodeRed5 };
}

/**
 * Starts the shared broker via the support CLI. It runs as our child and stops its broker
 * when its stdin closes, so it goes away with us even if we are killed.
 */
function startBroker() {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join('test', 'support', 'kafka', 'cli.ts'), 'start', '--mode', 'single', '--name', 'shared', '--stop-on-stdin-eof'],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = readline.createInterface({ input: child.stdout });
    let done = false;
    lines.on('line', (line) => {
      if (done || !line.startsWith('{')) return;
      done = true;
      resolve({ child, info: JSON.parse(line) });
    });
    child.once('exit', (code, signal) => {
      if (!done) reject(new Error(`Kafka broker failed to start (cli exited with ${code ?? signal}); see above`));
    });
    child.once('error', reject);
  });
}

function stopBroker(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin.end(); // the CLI's cue to stop Kafka and exit
  });
}

/** The totals of a TAP report: "# pass N", "# fail N", "# skipped N". */
function tapCounts(file) {
  const counts = { pass: 0, fail: 0, skipped: 0 };
  try {
    const text = fs.readFileSync(file, 'utf8');
    for (const key of Object.keys(counts)) {
      const m = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text);
      if (m) counts[key] = Number(m[1]);
    }
  } catch {
    // No report: the runner died before writing one; its exit code says so.
  }
  return counts;
}

/**
 * The failed tests of a TAP report, each with its error (the YAML block node:test
 * writes under "not ok", without the stack past its first lines). Suites that only
 * failed because a test in them did are left out.
 */
function tapFailures(file) {
  let lines;
  try {
    lines = fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
  const failures = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    const block = [];
    let j = i + 1;
    if (/^\s*---$/.test(lines[j] ?? '')) {
      for (j++; j < lines.length && !/^\s*\.\.\.$/.test(lines[j]); j++) block.push(lines[j].slice(indent + 2));
    }
    if (block.some((l) => /^failureType: 'subtestsFailed'/.test(l))) continue;
    const stackAt = block.findIndex((l) => /^stack: /.test(l));
    const shown = (stackAt >= 0 ? block.slice(0, stackAt + 4) : block).filter((l) => !/^(duration_ms|type):/.test(l));
    failures.push(`✖ ${m[2]}\n${shown.slice(0, 40).map((l) => `    ${l}`).join('\n')}`);
  }
  return failures;
}

function tailFile(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(cannot read ${file}: ${err.message})`;
  }
}

async function main() {
  const { files, flags, build, nodeRed5 } = parseArgs(process.argv.slice(2));
  if (files.length === 0) {
    console.log('test.js: no test files found');
    return 0;
  }
  if (build) runBuild('test.js');

  let broker;
  const env = { ...process.env };
  // Unit tests need no broker; a file that wants one anyway starts its own lazily.
  const needsKafka = files.some((f) => !path.relative(root, f).startsWith(path.join('test', 'unit') + path.sep));
  if (process.env.KAFKA_BROKERS) {
    console.log(`test.js: using external Kafka ${process.env.KAFKA_BROKERS}`);
  } else if (!process.env.STREAMSAFE_TEST_KAFKA && needsKafka) {
    const t0 = Date.now();
    broker = await startBroker();
    const { brokers, logDirs, logFile } = broker.info;
    env.STREAMSAFE_TEST_KAFKA = JSON.stringify({ brokers, logDirs, logDir: logDirs[0], logFile });
    console.log(`test.js: Kafka ${brokers.join(',')} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (log ${logFile})`);
  }

  // Ctrl-C reaches the whole process group; wait for the runner to finish rather than die
  // first, so the broker is still stopped in order below.
  let interrupted = false;
  const onSignal = (sig) => {
    interrupted = true;
    if (sig !== 'SIGINT' && runner && runner.exitCode === null) runner.kill(sig);
  };
  let runner;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Leg 1: everything, on this Node and the Node-RED 4 devDependency. Leg 2: the
  // Node-RED node tests again on Node-RED 5 (Node 22), unless only some files were named.
  const legs = [{ name: `Node ${process.version}, Node-RED ${require('node-red/package.json').version}`, node: process.execPath, files, env }];
  const nodeTests = files.filter((f) => path.relative(root, f).startsWith(path.join('test', 'nodes') + path.sep));
  if (nodeRed5 && nodeTests.length) {
    const { ensureNodeRed5, NODE_RED_5 } = require('./node-red-5');
    const nr5 = ensureNodeRed5();
    legs.push({
      name: `Node 22, Node-RED ${NODE_RED_5}`,
      node: nr5.node,
      files: nodeTests,
      env: { ...env, STREAMSAFE_NODE_RED_DIR: nr5.dir, STREAMSAFE_EXPECT_NODE_RED: NODE_RED_5 },
    });
  }
  let code = 0;
  const totals = { pass: 0, fail: 0, skipped: 0 };
  const failures = [];
  for (const leg of legs) {
    if (interrupted) break;
    console.log(`\ntest.js: ---- ${leg.name}: ${leg.files.length} file(s) ----`);
    const tap = path.join(os.tmpdir(), `streamsafe-test-${process.pid}-${legs.indexOf(leg)}.tap`);
    const args = [
      '--import', 'tsx',
      '--test',
      '--test-concurrency=2',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      ...flags,
      ...leg.files.map((f) => path.relative(root, f)),
    ];
    runner = spawn(leg.node, args, { cwd: root, stdio: 'inherit', env: leg.env });
    const legCode = await new Promise((resolve) => {
      runner.once('exit', (c, signal) => resolve(c ?? (signal ? 128 + (os.constants.signals[signal] || 0) : 1)));
      runner.once('error', (err) => {
        console.error(`test.js: cannot run node --test: ${err.message}`);
        resolve(1);
      });
    });
    const counts = tapCounts(tap);
    for (const f of tapFailures(tap)) failures.push(`[${leg.name}] ${f}`);
    fs.rmSync(tap, { force: true });
    totals.pass += counts.pass;
    totals.fail += counts.fail;
    totals.skipped += counts.skipped;
    console.log(`test.js: ${leg.name}: ${counts.pass} passed, ${counts.fail} failed, ${counts.skipped} skipped (exit ${legCode})`);
    if (legCode !== 0 && code === 0) code = legCode;
  }
  // One closing line over all legs.
  console.log(`\n${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);

  if (broker) {
    const logFile = broker.info.logFile;
    if (code !== 0 && fs.existsSync(logFile)) {
      // The broker's temp dir goes away with it; keep the log where it can be read later.
      const kept = path.join(os.tmpdir(), `streamsafe-test-kafka-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
      fs.copyFileSync(logFile, kept);
      console.error(`\ntest.js: tests failed${interrupted ? ' (interrupted)' : ''}; broker log kept at ${kept}`);
      console.error(`---- last ${LOG_TAIL_LINES} lines of the broker log ----\n${tailFile(kept, LOG_TAIL_LINES)}\n----`);
    }
    await stopBroker(broker.child);
  }
  // Last, so that a CI showing only the end of the output shows why.
  if (failures.length) console.error(`\n---- ${failures.length} failed test(s) ----\n${failures.join('\n')}\n----`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`test.js: ${err.stack || err}`);
    process.exit(1);
  },
);
