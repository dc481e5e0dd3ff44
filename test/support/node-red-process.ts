// A real `node-red` process with this package installed in its user dir, for
// the flow, palette and browser tests.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './kafka/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareUserDir } = require('../../scripts/node-red-userdir');

export interface NodeRedProcess {
  url: string;
  userDir: string;
  log(): string;
  stop(): Promise<void>;
}


export interface StartOptions {
  timeoutMs?: number;
  /** a user dir prepared by the caller (package installed there); default: a fresh one with this repo linked in */
  userDir?: string;
  /** credentials by node id ({xc: {bearerToken: ...}}), written as plain flows_cred.json (credentialSecret is false) */
  credentials?: Record<string, unknown>;
}

export async function startNodeRed(flows: unknown[] = [], opts: StartOptions = {}): Promise<NodeRedProcess> {
  const timeoutMs = opts.timeoutMs ?? 60000;
  const userDir = opts.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-nr-'));
  const port = await freePort();
  const settings = prepareUserDir(userDir, { flows, port, linkPackage: !opts.userDir });
  if (opts.credentials) fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(opts.credentials, null, 2));
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', settings], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node-red exited (${child.exitCode}):\n${output}`);
    if (/Started flows/.test(output)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`node-red did not start in ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    userDir,
    log: () => output,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}
