#!/usr/bin/env node
// `npm test`: build, start ONE Kafka broker for the whole run, run the test files with
// Node's test runner (through tsx), stop the broker, exit with the runner's code.
//
//   npm test                                 all of test/{unit,integration,nodes}/**/*.test.ts
//   npm test -- test/unit/foo.test.ts        only these files (directories are expanded)
//   npm test -- --test-name-pattern=acks     other flags go to `node --test`
//   npm test -- --no-build                   skip `npm run build`
//
// KAFKA_BROKERS=host:port,... uses that cluster instead of starting one (tests needing
// broker files then skip). STREAMSAFE_KEEP_KAFKA=1 keeps the broker's temp dir.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const root = path.resolve(__dirname, '..');
const testRoots = ['test/unit', 'test/integration', 'test/nodes'];
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
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-build') build = false;
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
  return { files: selected ? files : testRoots.flatMap((d) => findTests(path.join(root, d))), flags, build };
}

function runBuild() {
  // Through npm, as asked for; npm_execpath is set when we run under `npm test`.
  const npm = process.env.npm_execpath;
  const r = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
    : spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`test.js: build failed (${r.error ? r.error.message : `exit ${r.status}`})`);
    process.exit(r.status || 1);
  }
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

function tailFile(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(cannot read ${file}: ${err.message})`;
  }
}

async function main() {
  const { files, flags, build } = parseArgs(process.argv.slice(2));
  if (files.length === 0) {
    console.log('test.js: no test files found');
    return 0;
  }
  if (build) runBuild();

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

  const args = [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    ...flags,
    ...files.map((f) => path.relative(root, f)),
  ];
  runner = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env });
  const code = await new Promise((resolve) => {
    runner.once('exit', (c, signal) => resolve(c ?? (signal ? 128 + (os.constants.signals[signal] || 0) : 1)));
    runner.once('error', (err) => {
      console.error(`test.js: cannot run node --test: ${err.message}`);
      resolve(1);
    });
  });

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
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`test.js: ${err.stack || err}`);
    process.exit(1);
  },
);
