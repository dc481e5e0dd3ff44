// The X emulator as a process, for the demo and for tests in another process:
//
//   node --import tsx test/support/x-emulator/cli.ts [--port 0] [--rate 50|max] [--seed 1]
//        [--keep-alive-ms 20000] [--token T]... [--rule 'value[#tag]']... [--no-rate-limits]
//        [--authors 1000] [--history 1000] [--stop-on-stdin-eof]
//        [--time-scale 1] [--time-origin EPOCH_MS] [--keep-alive-jitter-ms 0] [--no-compression]
//        [--access enterprise|pro|basic|pay-per-use] [--token-access TOKEN=LEVEL]...
//
// Prints one JSON line: {"url","bearerToken","bearerTokens","apiKeys","controlUrl","postsPerSecond",
// "timeScale","timeOrigin","pid"},
// then serves until SIGINT/SIGTERM (or stdin EOF with --stop-on-stdin-eof). Faults and the
// rate are changed through the control endpoint, e.g.
//   curl -XPOST $url/__control/faults -d '{"type":"drop","afterPosts":500}'
import { startXEmulator, type XEmulatorOptions } from './emulator';
import type { AccessLevel } from './spec-params';

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(
    'usage: cli.ts [--port N] [--rate N|max] [--seed N] [--keep-alive-ms N] [--token T]... [--rule VALUE[#TAG]]...\n' +
      '              [--no-rate-limits] [--authors N] [--history N] [--stop-on-stdin-eof]\n' +
      '              [--time-scale X] [--time-origin MS] [--keep-alive-jitter-ms N] [--no-compression]\n' +
      '              [--access LEVEL] [--token-access TOKEN=LEVEL]...\n',
  );
  process.exit(2);
}

const LEVELS: readonly AccessLevel[] = ['pay-per-use', 'basic', 'pro', 'enterprise'];

function level(v: string): AccessLevel {
  if (!(LEVELS as readonly string[]).includes(v)) usage(`an access level is one of ${LEVELS.join(', ')}, not ${v}`);
  return v as AccessLevel;
}

async function main(): Promise<void> {
  const opts: XEmulatorOptions = {};
  const tokens: string[] = [];
  const rules: Array<{ value: string; tag?: string }> = [];
  let watchStdin = false;
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => args[++i] ?? usage(`${a} needs a value`);
    const num = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) usage(`${a} wants a number >= 0, got ${v}`);
      return n;
    };
    if (a === '--port') opts.port = num();
    else if (a === '--rate') {
      const v = value();
      opts.postsPerSecond = v === 'max' ? Infinity : Number(v);
      if (!(opts.postsPerSecond >= 0)) usage(`--rate wants a number >= 0 or max, got ${v}`);
    } else if (a === '--seed') opts.seed = num();
    else if (a === '--keep-alive-ms') opts.keepAliveMs = num();
    else if (a === '--token') tokens.push(value());
    else if (a === '--rule') {
      const v = value();
      const hash = v.lastIndexOf('#');
      // "value#tag" unless the '#' starts a hashtag inside the value
      if (hash > 0 && v[hash - 1] !== ' ' && !v.slice(hash).includes(' ')) rules.push({ value: v.slice(0, hash), tag: v.slice(hash + 1) });
      else rules.push({ value: v });
    } else if (a === '--no-rate-limits') opts.rateLimits = false;
    else if (a === '--authors') opts.authors = num();
    else if (a === '--history') opts.historyPosts = num();
    else if (a === '--stop-on-stdin-eof') watchStdin = true;
    else if (a === '--time-scale') {
      opts.timeScale = num();
      if (!(opts.timeScale > 0)) usage('--time-scale wants a number > 0');
    } else if (a === '--time-origin') opts.timeOrigin = num();
    else if (a === '--keep-alive-jitter-ms') opts.keepAliveJitterMs = num();
    else if (a === '--no-compression') opts.compression = false;
    else if (a === '--access') opts.access = level(value());
    else if (a === '--token-access') {
      const v = value();
      const eq = v.lastIndexOf('=');
      if (eq <= 0) usage(`--token-access wants TOKEN=LEVEL, got ${v}`);
      opts.tokenAccess = { ...opts.tokenAccess, [v.slice(0, eq)]: level(v.slice(eq + 1)) };
    }
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${a}`);
  }
  if (tokens.length) opts.bearerTokens = tokens;
  const emu = await startXEmulator(opts);
  if (rules.length) emu.addRules(rules);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emu.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop);
  if (watchStdin) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  process.stdout.write(
    JSON.stringify({
      url: emu.url,
      bearerToken: emu.bearerToken,
      bearerTokens: emu.bearerTokens,
      apiKeys: emu.apiKeys,
      controlUrl: `${emu.url}/__control`,
      postsPerSecond: emu.postsPerSecond === Infinity ? 'max' : emu.postsPerSecond,
      timeScale: emu.timeScale,
      timeOrigin: emu.timeOrigin,
      pid: process.pid,
    }) + '\n',
  );
  setInterval(() => {}, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`x-emulator: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
