// Test support for the X nodes: the compiled nodes with RED._ reading their en-US catalog (as
// the real runtime does), flows around an X stream node, and small helpers for timing faults.
import { getNode, helper, partitionKeyNode, xCredentialsNode, xStreamNode } from './node-red';

// The compiled nodes, with RED._ reading their en-US catalog.
export { partitionKeyNode, xCredentialsNode, xStreamNode };

/** Reconnect settings small enough for tests (ms). */
export const FAST_RECONNECT = {
  minReconnectIntervalMs: '1000',
  networkStepMs: '100',
  networkMaxMs: '1000',
  httpInitialMs: '200',
  httpMaxMs: '1600',
  rateLimitInitialMs: '400',
  rateLimitMaxMs: '3200',
};

export interface XFlowOptions {
  baseUrl: string;
  stream?: Record<string, unknown>;
  account?: Record<string, unknown>;
  /** more nodes (wired from 'x1' output 0 by giving `postWires`) */
  extraNodes?: unknown[];
  postWires?: string[];
  /** Nodes the one Catch node listens to (default ['x1']; the test helper allows one Catch node per flow). */
  catchScope?: string[];
}

/**
 * X credentials (xc) → X stream (x1) → helper (out); statistics → helper (stats);
 * a Catch scoped to x1 → helper (caught).
 */
export function xFlow(o: XFlowOptions): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'x' },
    // Enterprise, as the emulator's default app: the sample stream and backfill are open.
    { id: 'xc', type: 'streamsafe-x-credentials', z: '', baseUrl: o.baseUrl, authType: 'bearer', timeout: '5000', access: 'enterprise', ...o.account },
    {
      id: 'x1', type: 'streamsafe-x-stream', z: 'tab', account: 'xc', mode: 'filtered', rules: [], query: '',
      tweetFields: 'author_id,created_at,lang,public_metrics', userFields: '', expansions: 'author_id',
      statsInterval: '0', dedupWindow: '10000', queueSize: '10000', overflow: 'drop',
      // These tests check reconnects and what each connection carried; gap recovery re-reads
      // posts on purpose and has its own tests (x-source-recovery, x-to-kafka).
      recovery: false,
      ...FAST_RECONNECT,
      ...o.stream,
      wires: [o.postWires ?? ['out'], ['stats']],
    },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'stats', type: 'helper', z: 'tab' },
    { id: 'c1', type: 'catch', z: 'tab', scope: o.catchScope ?? ['x1'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
    ...(o.extraNodes ?? []),
  ];
}

/** Loads a flow with the X nodes (and `extra` node modules). */
export async function loadXFlow(flow: unknown[], credentials: Record<string, unknown>, extra: unknown[] = []): Promise<void> {
  await helper.unload();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { catchNode } = require('./node-red');
  await new Promise<void>((resolve) => helper.load([xCredentialsNode, xStreamNode, catchNode, ...extra], flow, credentials, resolve));
}

/** Every status text this node (this instance) showed so far. */
export function statusTexts(id: string): string[] {
  const node = getNode(id);
  // The helper spies on Node.prototype.status: the calls of every node, with their `this`.
  const spy = node.status as any;
  const calls = (spy.args ?? []) as Array<[{ text?: string }]>;
  const self = (spy.thisValues ?? []) as unknown[];
  return calls.filter((_c, i) => self[i] === node).map((c) => c[0]?.text ?? '');
}

export async function until<T>(fn: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
