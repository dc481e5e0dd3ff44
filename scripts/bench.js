#!/usr/bin/env node
// `npm run bench`: build, run the producer benchmark (bench/producer/run.ts: its own Kafka
// broker, Java, raw kafkajs, this node and other npm Kafka nodes in Node-RED), then every
// other bench/*.bench.ts, and write BENCHMARKS.md with their tables, the chart
// (bench/results/producer.svg) and the command that reproduces them.
//
//   npm run bench                          everything (about 10-12 minutes on 2 cores)
//   npm run bench -- --quick               smaller runs, one round each (about 6 minutes), same report
//   npm run bench -- --no-build            skip `npm run build`
//   npm run bench -- --no-other-benches    the producer benchmark only
//   npm run bench -- --latency=0,1         every producer throughput case on loopback and with the
//                                          broker 1 ms away each way (toxiproxy; Go builds it once)
//   npm run bench -- --only=node,raw-kafkajs --presets=safe ...   other flags go to bench/producer/run.ts
//   npm run bench -- --no-consumer         skip the consumer benchmark
//   npm run bench -- consumer [flags]      the consumer benchmark only (bench/consumer/run.ts, flags go
//                                          to it, e.g. --quick, --records=N, --rounds=N, --only=java,ours):
//                                          replaces only its section of BENCHMARKS.md
//   npm run bench -- consumer --no-build --render=bench/results/consumer.json   that section again from the saved run
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { runBuild } = require('./npm-build');

const root = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const has = (f) => argv.includes(f);
const OWN = new Set(['--no-build', '--no-other-benches', '--no-consumer']);
const quick = has('--quick');
const producerArgs = argv.filter((a) => !OWN.has(a));
// --latency=0,1: proxied cases (anything but plain 0) put the broker behind toxiproxy.
const latencyArg = producerArgs.find((a) => a.startsWith('--latency='));
const proxied = !!latencyArg && latencyArg.slice('--latency='.length).split(',').some((c) => c.trim() && c.trim() !== '0');
const OTHER_TIMEOUT_MS = 10 * 60 * 1000;
const CONSUMER_TIMEOUT_MS = 60 * 60 * 1000;
const CONSUMER_HEADING = '## Consumer (issue 11)';

/** Runs a bench file with tsx; resolves with its exit code and captured stdout (stderr is shown live). */
function runBench(file, args, timeoutMs, showStdout) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (showStdout) process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      err += d;
      process.stderr.write(d);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, timeoutMs);
    const onSignal = () => child.kill('SIGTERM');
    process.once('SIGINT', onSignal);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      resolve({ code: code ?? (signal ? 1 : 0), out, err, timedOut, ms: Date.now() - started });
    });
  });
}

function tail(text, n) {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

function fence(text) {
  return '```text\n' + text.trimEnd() + '\n```';
}

/** What the first comment paragraph of a bench file says it measures. */
function describe(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const block = [];
  for (const l of lines) {
    if (!l.startsWith('//')) {
      if (block.length) break;
      continue;
    }
    const text = l.replace(/^\/\/\s?/, '');
    if (!text.trim()) break;
    block.push(text.trim());
  }
  const joined = block.join(' ').replace(/:$/, '.');
  if (!joined) return path.basename(file);
  if (joined.length <= 320) return joined.replace(/\.$/, '');
  const cut = joined.lastIndexOf('. ', 320);
  return cut > 40 ? joined.slice(0, cut) : `${joined.slice(0, 320)}…`;
}

/**
 * A bench's printed tables. Several print each row as it is measured and then the whole
 * table: a paragraph whose lines all appear again in a later one is left out.
 */
function tables(out) {
  const paras = out.trimEnd().split(/\n\s*\n/);
  const keep = paras.filter((p, i) => {
    const lines = p.split('\n').filter((l) => l.trim());
    return !paras.slice(i + 1).some((later) => lines.every((l) => later.includes(l)));
  });
  return keep.join('\n\n');
}

/** The consumer benchmark's section of BENCHMARKS.md (bench/consumer/run.ts writes bench/results/consumer.md). */
async function consumerSection(args) {
  console.error(`bench.js: consumer benchmark (bench/consumer/run.ts${args.length ? ' ' + args.join(' ') : ''})`);
  const r = await runBench(path.join('bench', 'consumer', 'run.ts'), args, CONSUMER_TIMEOUT_MS, false);
  const md = path.join(root, 'bench', 'results', 'consumer.md');
  const lines = [CONSUMER_HEADING, ''];
  // --render=<consumer.json> only writes the section again from a saved run (e.g. after the text changed).
  const rendered = args.some((a) => a.startsWith('--render='));
  const runArgs = args.filter((a) => !a.startsWith('--render='));
  const took = rendered ? '' : ` (${Math.round(r.ms / 1000)} s)`;
  lines.push(`Records/s reading 1 KB records from a 12-partition topic: this consumer node in Node-RED, raw kafkajs \`eachBatch\`, the Java consumer and the other Node-RED Kafka nodes' consumers, side by side in one run. Reproduce the section alone with \`npm run bench -- consumer${runArgs.length ? ' ' + runArgs.join(' ') : ''}\`${took}; \`bench/results/consumer.json\` holds every figure.`);
  lines.push('');
  if (r.code === 0 && fs.existsSync(md)) lines.push(fs.readFileSync(md, 'utf8').trimEnd());
  else lines.push(`The consumer benchmark failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}):\n\n${fence(tail(r.err + r.out, 40))}`);
  lines.push('');
  return { ok: r.code === 0, text: lines.join('\n') };
}

/** `npm run bench -- consumer ...`: only the consumer benchmark; its section of BENCHMARKS.md is replaced (or added after the producer's). */
async function consumerOnly() {
  if (!has('--no-build')) runBuild('bench.js');
  const args = argv.filter((a) => a !== 'consumer' && !OWN.has(a));
  const section = await consumerSection(args);
  const file = path.join(root, 'BENCHMARKS.md');
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const parts = current.split(/\n(?=## )/);
  const at = parts.findIndex((p) => p.startsWith(CONSUMER_HEADING));
  if (at >= 0) parts[at] = section.text.trimEnd() + '\n';
  else {
    const producer = parts.findIndex((p) => p.startsWith('## Producer'));
    parts.splice(producer >= 0 ? producer + 1 : parts.length, 0, section.text.trimEnd() + '\n');
  }
  fs.writeFileSync(file, parts.join('\n'));
  console.error('bench.js: wrote the consumer section of BENCHMARKS.md');
  return section.ok ? 0 : 1;
}

async function main() {
  if (argv.includes('consumer')) return consumerOnly();
  const started = Date.now();
  if (!has('--no-build')) runBuild('bench.js');

  console.error('bench.js: producer benchmark (bench/producer/run.ts)');
  const producer = await runBench(path.join('bench', 'producer', 'run.ts'), producerArgs, 40 * 60 * 1000, false);
  const producerMd = path.join(root, 'bench', 'results', 'producer.md');
  const producerOk = producer.code === 0 && fs.existsSync(producerMd);
  const consumer = has('--no-consumer') ? undefined : await consumerSection(quick ? ['--quick'] : []);

  const others = [];
  if (!has('--no-other-benches')) {
    const dir = path.join(root, 'bench');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort();
    for (const f of files) {
      const rel = path.join('bench', f);
      const args = quick ? ['--ms=500', '--rounds=1'] : [];
      console.error(`bench.js: ${rel} ${args.join(' ')}`);
      const r = await runBench(rel, args, OTHER_TIMEOUT_MS, true);
      others.push({ rel, args, describe: describe(path.join(dir, f)), ...r });
    }
  }

  const cpus = os.cpus();
  const md = [];
  md.push('# Benchmarks');
  md.push('');
  md.push('Generated by `npm run bench` (scripts/bench.js); do not edit by hand. Reproduce with:');
  md.push('');
  md.push('```sh');
  const reproduce = argv.filter((a) => a !== '--no-build');
  md.push(`npm run bench${reproduce.length ? ` -- ${reproduce.join(' ')}` : ''}`);
  md.push('```');
  md.push('');
  md.push(
    `It builds, starts its own Kafka broker (test/support/kafka, with the full JIT), installs the other Node-RED Kafka nodes into ` +
      '`~/.cache/streamsafe` (not into this package), runs everything below and rewrites this file, `bench/results/producer.json` ' +
      'and the chart `bench/results/producer.svg`. `npm run bench -- --quick` runs smaller counts; ' +
      '`npm run bench -- --latency=0,1` runs every producer throughput case also with the broker 1 ms away each way (toxiproxy, built once with `go install` into the same cache); ' +
      '`npm run bench -- --cpu-prof --only=node` also profiles the measured window of the node run (`/tmp/streamsafe-bench-profiles`).',
  );
  md.push('');
  md.push(`Machine: ${cpus.length} × ${cpus[0] ? cpus[0].model.trim() : 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}. ` +
    `Everything (broker, clients, Node-RED${proxied ? ', toxiproxy' : ''}) runs on this one machine over 127.0.0.1, so client and broker share ${cpus.length} cores. ` +
    `Total time ${Math.round((Date.now() - started) / 1000)} s${quick ? ' (--quick)' : ''}.`);
  md.push('');
  md.push('## Producer (issues 3 and 8)');
  md.push('');
  if (producerOk) md.push(fs.readFileSync(producerMd, 'utf8').trimEnd());
  else md.push(`The producer benchmark failed (exit ${producer.code}${producer.timedOut ? ', timed out' : ''}):\n\n${fence(tail(producer.err + producer.out, 40))}`);
  md.push('');
  if (consumer) md.push(consumer.text);
  for (const o of others) {
    md.push(`## ${o.rel}`);
    md.push('');
    md.push(`${o.describe}. \`node --import tsx ${o.rel}${o.args.length ? ' ' + o.args.join(' ') : ''}\`, ${Math.round(o.ms / 1000)} s.`);
    md.push('');
    if (o.code === 0) md.push(fence(tables(o.out)));
    else md.push(`Failed (exit ${o.code}${o.timedOut ? ', timed out' : ''}):\n\n${fence(tail(o.err + '\n' + o.out, 30))}`);
    md.push('');
  }
  fs.writeFileSync(path.join(root, 'BENCHMARKS.md'), md.join('\n'));
  console.error(`bench.js: wrote BENCHMARKS.md (${Math.round((Date.now() - started) / 1000)} s)`);
  return producerOk && (!consumer || consumer.ok) && others.every((o) => o.code === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench.js: ${err.stack || err}`);
    process.exit(1);
  },
);
