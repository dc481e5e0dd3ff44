// X emulator throughput: how many posts per second the emulator alone writes to one raw HTTP
// stream client, and what CPU it spends doing it.
//
//   node --import tsx bench/x-emulator.bench.ts [--ms=5000] [--rates=max,20000,50000]
//        [--fields=default|demo|full] [--endpoint=sample|filtered] [--parse]
//
// The emulator runs in a child process (its own core); this process is the client: it counts
// "\r\n"-terminated records with Buffer.indexOf (and JSON.parses each one with --parse). For
// each rate it prints posts/s, MB/s and the emulator's CPU (user+sys, % of one core).
// --rates: 'max' is as fast as the client reads; a number is a fixed firehose rate.
// --fields: default (id, text, edit_history_tweet_ids); demo (+ author_id, created_at, lang,
// public_metrics, author expansion); full (+ conversation_id, entities, more user fields).
// --endpoint=filtered adds two rules matching most posts.
import { fork, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';

const arg = (name: string, fallback: string): string => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : fallback;
};
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

interface Ready {
  url: string;
  token: string;
}
interface Usage {
  cpuMs: number;
  emitted: number;
  rss: number;
}

// ---------------------------------------------------------------------------------------------
// Child: the emulator

async function child(): Promise<void> {
  const { startXEmulator } = await import('../test/support/x-emulator');
  const rate = process.env.BENCH_RATE === 'max' ? Infinity : Number(process.env.BENCH_RATE);
  const emu = await startXEmulator({ postsPerSecond: rate, record: false, rateLimits: false, historyPosts: 0, slowClientMs: 3_600_000 });
  if (process.env.BENCH_ENDPOINT === 'filtered') {
    // Two rules that between them match most posts, as a demo would have.
    emu.addRules([{ value: 'the OR a OR lang:ja OR lang:ko OR lang:es OR #kafka', tag: 'most' }, { value: 'kafka OR coffee', tag: 'topic' }]);
  }
  let cpu0 = process.cpuUsage();
  let emitted0 = 0;
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'mark') {
      cpu0 = process.cpuUsage();
      emitted0 = emu.stats().postsEmitted;
      process.send!({ cmd: 'marked' });
    } else if (m.cmd === 'usage') {
      const d = process.cpuUsage(cpu0);
      const u: Usage = { cpuMs: (d.user + d.system) / 1000, emitted: emu.stats().postsEmitted - emitted0, rss: process.memoryUsage().rss };
      process.send!({ cmd: 'usage', usage: u });
    } else if (m.cmd === 'stop') {
      void emu.stop().then(() => process.exit(0));
    }
  });
  process.send!({ cmd: 'ready', ready: { url: emu.url, token: emu.bearerToken } satisfies Ready });
}

// ---------------------------------------------------------------------------------------------
// Parent: the client

function request(proc: ChildProcess, cmd: string, reply: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>): void => {
      if (m.cmd !== reply) return;
      proc.off('message', on);
      resolve(m);
    };
    proc.on('message', on);
    proc.send({ cmd });
  });
}

async function runOne(rate: string, ms: number, fields: string, endpoint: string, parse: boolean): Promise<void> {
  const proc = fork(__filename, ['--child'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_RATE: rate, BENCH_ENDPOINT: endpoint },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve) => proc.once('message', (m: { ready: Ready }) => resolve(m.ready)));
  const query =
    fields === 'full'
      ? '?tweet.fields=author_id,created_at,lang,public_metrics,conversation_id,entities&expansions=author_id&user.fields=username,name,verified,public_metrics'
      : fields === 'demo'
        ? '?tweet.fields=author_id,created_at,lang,public_metrics&expansions=author_id&user.fields=username,name'
        : '';
  const path = endpoint === 'filtered' ? '/2/tweets/search/stream' : '/2/tweets/sample/stream';
  let records = 0;
  let bytes = 0;
  let parsed = 0;
  let carry: Buffer | null = null;
  const req = http.get(`${ready.url}${path}${query}`, { headers: { authorization: `Bearer ${ready.token}` }, agent: false });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  if (res.statusCode !== 200) throw new Error(`stream answered ${res.statusCode}`);
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    let buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = null;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      if (nl - start > 1) {
        records++;
        if (parse) {
          JSON.parse(buf.toString('utf8', start, nl - 1));
          parsed++;
        }
      }
      start = nl + 1;
    }
    if (start < buf.length) carry = buf.subarray(start);
    buf = chunk;
  });
  // Warm up, then measure.
  await new Promise((r) => setTimeout(r, Math.min(1000, ms / 4)));
  await request(proc, 'mark', 'marked');
  const r0 = records;
  const b0 = bytes;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, ms));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const usage = (await request(proc, 'usage', 'usage')).usage as Usage;
  const cc = process.cpuUsage(c0);
  req.destroy();
  const exited = new Promise((r) => proc.once('exit', r));
  proc.send({ cmd: 'stop' });
  const n = records - r0;
  const pps = n / secs;
  const mb = (bytes - b0) / secs / 1e6;
  const emuCpu = usage.cpuMs / 1000 / secs;
  console.log(
    [
      `rate ${rate.padStart(6)}`,
      `${endpoint}/${fields}${parse ? '/parse' : ''}`,
      `${Math.round(pps).toLocaleString('en-US').padStart(9)} posts/s`,
      `${mb.toFixed(1).padStart(6)} MB/s`,
      `${(bytes / Math.max(1, records)).toFixed(0)} B/post`,
      `emulator CPU ${(emuCpu * 100).toFixed(0).padStart(3)}% of a core (${((usage.cpuMs * 1000) / Math.max(1, usage.emitted)).toFixed(2)} µs/post)`,
      `client CPU ${(((cc.user + cc.system) / 1e6 / secs) * 100).toFixed(0)}%`,
      `emulator RSS ${(usage.rss / 1e6).toFixed(0)} MB`,
    ].join('  '),
  );
  const timer = setTimeout(() => proc.kill(), 5000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) return child();
  const ms = Number(arg('ms', '5000'));
  const rates = arg('rates', 'max,20000,50000').split(',');
  const fields = arg('fields', 'default');
  const endpoint = arg('endpoint', 'sample');
  const parse = flag('parse');
  console.log(`x-emulator bench: ${ms} ms per run, node ${process.version}`);
  for (const rate of rates) await runOne(rate, ms, fields, endpoint, parse);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
