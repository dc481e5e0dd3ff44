// Connections to the brokers of one cluster, by node id, as the Java client's
// NetworkClient keeps them: a node is connected on demand, is "ready" once
// connected, authenticated and its API versions known, and after a failed
// connect waits reconnect.backoff.ms (growing to reconnect.backoff.max.ms)
// before the next try. Before the first metadata answer the seed brokers
// stand in as bootstrap nodes (negative ids).
//
// Requests to one node reach its socket in the order send() was called: each
// request is fully written before it is handed over (see produce.ts), and
// kafkajs's path from send to socket is equally long for every request of a
// ready connection. Nothing here retries: a failed request fails to the caller.

import { exponentialBackoff, type BackoffPolicy } from '../../common/backoff';
import { systemClock, type Clock } from '../../common/clock';
import {
  KafkajsBrokerFactory,
  type ApiVersionRange,
  type ConnectionSettings,
  type KafkajsBroker,
  type KafkajsProtocolRequest,
} from './kafkajs';
import { splitHostPort } from '../client-config';
import type { BrokerInfo } from './metadata';

type NodeState = 'disconnected' | 'connecting' | 'ready';

interface NodeConnection {
  id: number;
  host: string;
  port: number;
  broker?: KafkajsBroker;
  state: NodeState;
  connecting?: Promise<void>;
  /** failed connects in a row */
  failures: number;
  /** no connect before this time */
  reconnectAt: number;
  inFlight: number;
}

export interface NetworkEvents {
  /** a node became ready */
  onNodeReady?(nodeId: number): void;
  /** a connect failed, or a ready connection dropped */
  onNodeFailed?(nodeId: number, err: Error): void;
  /** authentication failed: retrying cannot help */
  onFatal?(err: Error): void;
}

export interface NetworkOptions {
  /** reconnect.backoff.ms */
  reconnectBackoffMs?: number;
  /** reconnect.backoff.max.ms */
  reconnectBackoffMaxMs?: number;
  clock?: Clock;
  events?: NetworkEvents;
  /** how long close() waits for connections to go (they are let go in the background after that) */
  closeTimeoutMs?: number;
}

/** The connection of a node is not (or no longer) usable. */
export class NodeNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaConnectionError';
  }
}

const CONNECTION_ERROR_NAMES = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaConnectionError']);

/** Whether an error of a send means the connection is gone (as opposed to an answer that could not be read). */
export function isConnectionFailure(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return !!name && CONNECTION_ERROR_NAMES.has(name);
}

export function isRequestTimeout(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'KafkaJSRequestTimeoutError';
}

/** Authentication failures: SASL errors kafkajs raises while connecting. */
export function isAuthenticationFailure(err: unknown): boolean {
  const e = err as { name?: string; type?: string } | null;
  return !!e && (/Authentication/.test(String(e.name)) || e.type === 'SASL_AUTHENTICATION_FAILED' || e.type === 'ILLEGAL_SASL_STATE');
}

/** Picks the version of an API to use: the highest both sides speak, or undefined if they share none. */
export function chooseVersion(range: ApiVersionRange | undefined, min: number, max: number): number | undefined {
  if (!range) return undefined;
  const v = Math.min(max, range.maxVersion);
  return v >= Math.max(min, range.minVersion) ? v : undefined;
}

export class KafkaNetwork {
  private readonly nodes = new Map<number, NodeConnection>();
  private readonly factory: KafkajsBrokerFactory;
  private readonly backoff: BackoffPolicy;
  private readonly clock: Clock;
  private readonly events: NetworkEvents;
  private readonly closeTimeoutMs: number;
  private rotation = 0;
  private closed = false;
  /** connections being let go, so close() can wait for them */
  private leaving = new Set<Promise<unknown>>();

  constructor(settings: ConnectionSettings, options: NetworkOptions = {}) {
    this.factory = new KafkajsBrokerFactory(settings);
    this.clock = options.clock ?? systemClock;
    this.events = options.events ?? {};
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.backoff = exponentialBackoff({
      initialMs: options.reconnectBackoffMs ?? 50,
      maxMs: options.reconnectBackoffMaxMs ?? 1000,
      jitter: 0.2,
    });
    settings.brokers.forEach((address, i) => {
      const { host, port } = splitHostPort(address);
      this.nodes.set(-1 - i, this.newNode(-1 - i, host, port));
    });
  }

  private newNode(id: number, host: string, port: number): NodeConnection {
    return { id, host, port, state: 'disconnected', failures: 0, reconnectAt: 0, inFlight: 0 };
  }

  /** "host:port (node 2)", for messages. */
  describe(nodeId: number): string {
    const c = this.nodes.get(nodeId);
    if (!c) return `node ${nodeId}`;
    return `${c.host}:${c.port}${nodeId >= 0 ? ` (node ${nodeId})` : ''}`;
  }

  /**
   * The cluster's brokers from a metadata answer. Nodes that left or moved are
   * let go; once real nodes are known the bootstrap connections are too.
   */
  setNodes(brokers: BrokerInfo[]): void {
    if (this.closed || brokers.length === 0) return;
    const seen = new Set<number>();
    for (const b of brokers) {
      seen.add(b.nodeId);
      const c = this.nodes.get(b.nodeId);
      if (c && c.host === b.host && c.port === b.port) continue;
      if (c) this.letGo(c, new NodeNotReadyError(`${this.describe(c.id)} moved to ${b.host}:${b.port}`));
      this.nodes.set(b.nodeId, this.newNode(b.nodeId, b.host, b.port));
    }
    for (const c of [...this.nodes.values()]) {
      if (c.id >= 0 && !seen.has(c.id)) {
        this.letGo(c, new NodeNotReadyError(`${this.describe(c.id)} left the cluster`));
        this.nodes.delete(c.id);
      } else if (c.id < 0 && c.inFlight === 0 && c.state !== 'disconnected') {
        // A bootstrap connection is not needed any more; it comes back if every known node fails.
        this.letGo(c);
      }
    }
  }

  isReady(nodeId: number): boolean {
    const c = this.nodes.get(nodeId);
    if (!c || c.state !== 'ready') return false;
    if (c.broker?.isConnected()) return true;
    // The socket went away while idle (the broker closed it, or it died): connect again.
    this.down(c, new NodeNotReadyError(`Connection to ${this.describe(nodeId)} closed`));
    return false;
  }

  /** Milliseconds until a connect to this node may start (0: now, or it is ready or connecting). */
  connectDelay(nodeId: number, now = this.clock.now()): number {
    const c = this.nodes.get(nodeId);
    if (!c || c.state !== 'disconnected') return 0;
    return Math.max(0, c.reconnectAt - now);
  }

  /** Starts connecting to the node unless it is ready, connecting, or waiting out its backoff. */
  connect(nodeId: number): void {
    const c = this.nodes.get(nodeId);
    if (!c || this.closed || c.state !== 'disconnected' || this.clock.now() < c.reconnectAt) return;
    this.startConnect(c);
  }

  private startConnect(c: NodeConnection): void {
    c.state = 'connecting';
    let broker: KafkajsBroker | undefined;
    const attempt = (async () => {
      broker = await this.factory.create(c.host, c.port, c.id >= 0 ? c.id : null);
      await broker.connect();
    })();
    c.connecting = attempt;
    // The attempt's end is tracked so that close() can wait for it: a connect
    // that finishes after close (or after the node was let go) is closed at once.
    this.track(
      attempt.then(
        () => {
          if (this.closed || c.connecting !== attempt || this.nodes.get(c.id) !== c) {
            if (broker) this.release(broker);
            return;
          }
          c.connecting = undefined;
          c.broker = broker;
          c.state = 'ready';
          c.failures = 0;
          this.events.onNodeReady?.(c.id);
        },
        (err: Error) => {
          if (broker) this.release(broker);
          if (this.closed || c.connecting !== attempt) return;
          c.connecting = undefined;
          c.state = 'disconnected';
          c.failures++;
          c.reconnectAt = this.clock.now() + this.backoff.delay(c.failures);
          if (isAuthenticationFailure(err)) this.events.onFatal?.(err);
          else this.events.onNodeFailed?.(c.id, err);
        },
      ),
    );
  }

  /**
   * A ready node with the fewest requests in flight, known nodes before
   * bootstrap ones. When none is ready, starts connecting to the next node
   * that may be tried (in turn) and returns undefined.
   */
  leastLoadedNode(): number | undefined {
    const all = [...this.nodes.values()];
    const pick = (list: NodeConnection[]) => {
      let best: NodeConnection | undefined;
      for (const c of list) if (this.isReady(c.id) && (!best || c.inFlight < best.inFlight)) best = c;
      return best;
    };
    const best = pick(all.filter((c) => c.id >= 0)) ?? pick(all.filter((c) => c.id < 0));
    if (best) return best.id;
    if (all.some((c) => c.state === 'connecting')) return undefined;
    // Nothing ready or connecting: the known nodes, and the seed brokers too
    // (as the Java client's metadata recovery by rebootstrap), in turn.
    const now = this.clock.now();
    for (let i = 0; i < all.length; i++) {
      const c = all[(this.rotation + i) % all.length];
      if (c.state === 'disconnected' && now >= c.reconnectAt) {
        this.rotation = (this.rotation + i + 1) % all.length;
        this.startConnect(c);
        return undefined;
      }
    }
    return undefined;
  }

  /** Milliseconds until leastLoadedNode could start another connect. */
  nextConnectDelay(): number {
    const now = this.clock.now();
    let best = Infinity;
    for (const c of this.nodes.values()) {
      if (c.state !== 'disconnected') return 0;
      best = Math.min(best, Math.max(0, c.reconnectAt - now));
    }
    return best === Infinity ? 0 : best;
  }

  /** The version of an API the node speaks in [min, max], or undefined. */
  apiVersion(nodeId: number, apiKey: number, min: number, max: number): number | undefined {
    return chooseVersion(this.nodes.get(nodeId)?.broker?.versions?.[apiKey], min, max);
  }

  /**
   * Sends a request on a ready node's connection; resolves with the decoded
   * answer (undefined when the request expects none). A connection failure
   * marks the node down before the promise rejects.
   */
  send<T>(nodeId: number, request: KafkajsProtocolRequest): Promise<T> {
    const c = this.nodes.get(nodeId);
    if (!c || !this.isReady(nodeId) || !c.broker) {
      return Promise.reject(new NodeNotReadyError(`Not connected to ${this.describe(nodeId)}`));
    }
    c.inFlight++;
    return c.broker.connectionPool.send(request).then(
      (answer) => {
        c.inFlight--;
        return answer as T;
      },
      (err: Error) => {
        c.inFlight--;
        if (isConnectionFailure(err)) this.down(c, err);
        throw err;
      },
    );
  }

  /**
   * Closes a node's connection and fails every request in flight on it, as
   * the Java client does after a request timeout: the broker may still act on
   * them, and their answers must not be waited for.
   */
  abort(nodeId: number, err: Error): void {
    const c = this.nodes.get(nodeId);
    if (c) this.down(c, err);
  }

  /** The connection failed: its requests fail with `err`, and it is tried again after the backoff. */
  private down(c: NodeConnection, err: Error): void {
    if (c.state === 'disconnected') return;
    this.letGo(c, err);
    // The first reconnect may go at once: the broker may be back, or the leader moved.
    c.reconnectAt = this.clock.now() + (c.failures > 0 ? this.backoff.delay(c.failures) : 0);
    if (!this.closed) this.events.onNodeFailed?.(c.id, err);
  }

  /**
   * Lets a node's connection go (a connect under way is closed when it ends);
   * with `err`, the requests in flight on it fail with it.
   */
  private letGo(c: NodeConnection, err?: Error): void {
    const broker = c.broker;
    c.broker = undefined;
    c.connecting = undefined;
    c.state = 'disconnected';
    if (broker) {
      if (err) for (const conn of broker.connectionPool.pool) conn.rejectRequests(err);
      this.release(broker);
    }
  }

  private release(broker: KafkajsBroker): void {
    this.track(broker.disconnect().catch(() => undefined));
  }

  private track(p: Promise<unknown>): void {
    this.leaving.add(p);
    void p.finally(() => this.leaving.delete(p));
  }

  /**
   * Closes every connection; requests in flight fail with `err`. Connects
   * still under way are closed as soon as they end, so no socket is left
   * open; close() waits for that up to closeTimeoutMs.
   */
  async close(err: Error = new NodeNotReadyError('The producer closed')): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.nodes.values()) this.letGo(c, err);
    const deadline = this.clock.now() + this.closeTimeoutMs;
    let timer: unknown;
    const timeout = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, this.closeTimeoutMs);
    });
    // Releasing one connection can start another release: wait until none is left.
    while (this.leaving.size > 0 && this.clock.now() < deadline) {
      const done = await Promise.race([Promise.all([...this.leaving]).then(() => true), timeout.then(() => false)]);
      if (!done) break;
    }
    this.clock.clearTimeout(timer);
  }
}
