// `npm start` as a user runs it, for the demo tests: the demo in its own process group
// (Ctrl-C in a terminal signals the whole group), its output, the services it prints,
// and the debug sidebar's messages read from the editor's websocket as the editor does.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort } from './kafka/ports';

export { freePort };


export interface DemoProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the match once the output matches; rejects if the demo exits or the time runs out. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** The `[demo] services {...}` line. */
  services(timeoutMs?: number): Promise<{ brokers: string[]; x: string }>;
  /**
   * SIGINT to the demo's process group, as Ctrl-C in its terminal. Resolves once the process
   * and everything holding its output (its children) are gone, with its exit code or the
   * signal that ended it (npm dies of the SIGINT itself), or 'timeout' after `timeoutMs`
   * (then the group is killed).
   */
  ctrlC(timeoutMs?: number): Promise<number | NodeJS.Signals | 'timeout'>;
}

/** Runs `argv` (e.g. node scripts/demo.js, or npm start) in `cwd` with `env` added. */
export function startDemo(cwd: string, argv: string[], env: Record<string, string>): DemoProcess {
  const base = { ...process.env };
  // Nothing of this test process leaks in: the demo runs as from a shell.
  for (const k of ['NODE_OPTIONS', 'NODE_TEST_CONTEXT']) delete base[k];
  const child = spawn(argv[0], argv.slice(1), { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // 'close': the process has exited and every process sharing its stdout/stderr too.
  const closed = new Promise<number | NodeJS.Signals>((resolve) => child.once('close', (code, signal) => resolve(code ?? signal!)));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  process.once('exit', () => killGroup('SIGKILL'));
  const waitFor = async (re: RegExp, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(out);
      if (m) return m;
      if (child.exitCode !== null) throw new Error(`the demo exited (${child.exitCode}) before ${re}:\n${out.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`no ${re} after ${timeoutMs} ms:\n${out.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    child,
    output: () => out,
    waitFor,
    services: async (timeoutMs = 120_000) => JSON.parse((await waitFor(/\[demo\] services (.*)/, timeoutMs))[1]),
    ctrlC: async (timeoutMs = 30_000) => {
      killGroup('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([closed, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
      clearTimeout(timer);
      if (code === 'timeout') killGroup('SIGKILL');
      return code;
    },
  };
}

export interface DebugMessage {
  id: string;
  name: string;
  msg: string;
  format: string;
}

/** The debug sidebar's messages, as the editor receives them on its /comms websocket. */
export async function debugMessages(port: number): Promise<{ messages: DebugMessage[]; next(pred: (m: DebugMessage) => boolean, timeoutMs: number): Promise<DebugMessage>; close(): void }> {
  // ws comes with Node-RED (Node 20 has no WebSocket client of its own).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const WebSocket = require(require.resolve('ws', { paths: [path.dirname(require.resolve('node-red/package.json'))] }));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/comms`);
  const messages: DebugMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ subscribe: 'debug' }));
  ws.on('message', (data: Buffer) => {
    for (const m of JSON.parse(String(data)) as Array<{ topic: string; data: DebugMessage }>) if (m.topic === 'debug') messages.push(m.data);
  });
  return {
    messages,
    next: async (pred, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (let seen = 0; ; ) {
        for (; seen < messages.length; seen++) if (pred(messages[seen])) return messages[seen];
        if (Date.now() > deadline) throw new Error(`no such debug message in ${timeoutMs} ms; got ${messages.length}: ${JSON.stringify(messages.slice(-5))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => ws.close(),
  };
}

/** Processes (Linux) whose command line names `dir` or that run in it (the demo's Node-RED, Kafka JVM and services do). */
export function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      let cwd = '';
      try {
        cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // not ours to read
      }
      if (cmd.includes(dir) || cwd === dir || cwd.startsWith(dir + path.sep)) found.push(`${pid} ${cmd.slice(0, 200)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** True when something accepts TCP connections at host:port. */
export function listening(hostPort: string): Promise<boolean> {
  const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
