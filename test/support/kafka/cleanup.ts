// Last-resort cleanup for everything the Kafka test support starts: when the test
// process exits (normally, via process.exit, or on SIGINT/SIGTERM) any JVM still running
// is SIGKILLed and temp dirs are removed. Only synchronous work is possible in 'exit'.
// A SIGKILLed test process cannot run this; StreamsafeLauncher covers that case.
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;

function cleanupNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  for (const dir of dirs) removeDirSync(dir);
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupNow();
  process.removeListener(signal, onSignal);
  // Keep the default meaning of the signal unless someone else (e.g. the test harness)
  // handles it too; then leave the exit to them.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

/** Kill this child (SIGKILL) if the test process exits while it still runs. */
export function trackChild(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Remove this directory if the test process exits before it is removed normally. */
export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

export function removeDirSync(dir: string): void {
  try {
    // Retries cover a JVM that is still writing its last file while dying.
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch {
    // best effort
  }
}
