// The way back from a msg to the consumer node that sent it: the consumer registers itself
// here by node id; the commit node (and, with finishOn producerAck, the producer node once
// Kafka acknowledged the msg) hands over the msg's hidden token. One registry per process.
import type { ConsumedToken } from './tracker';

/** The msg property holding the token (a plain object, so Node-RED's msg cloning keeps it). */
export const TOKEN_PROPERTY = '_streamsafeConsumed';

export type FinishSource = 'commitNode' | 'producerAck';

/** What a consumer answers for a token handed back. */
export type FinishAnswer = 'ok' | 'late' | 'unknown' | 'ignored';

export type FinishHandler = (token: ConsumedToken, source: FinishSource) => FinishAnswer;

const handlers = new Map<string, FinishHandler>();

export function registerConsumer(nodeId: string, handler: FinishHandler): void {
  handlers.set(nodeId, handler);
}

/** Removes the handler, if it is still this one (a redeploy's new node may have registered already). */
export function deregisterConsumer(nodeId: string, handler: FinishHandler): void {
  if (handlers.get(nodeId) === handler) handlers.delete(nodeId);
}

/** The token of a msg, when it carries a well-formed one. */
export function tokenOf(msg: unknown): ConsumedToken | undefined {
  if (!msg || typeof msg !== 'object') return undefined;
  const t = (msg as Record<string, unknown>)[TOKEN_PROPERTY] as Partial<ConsumedToken> | undefined;
  if (!t || typeof t !== 'object') return undefined;
  if (typeof t.node !== 'string' || typeof t.topic !== 'string' || typeof t.offset !== 'string') return undefined;
  if (!Number.isInteger(t.partition) || !Number.isInteger(t.generation)) return undefined;
  return t as ConsumedToken;
}

/**
 * Marks the msg finished at its consumer. 'none': no token; 'gone': its consumer node no
 * longer runs (closed or redeployed: the msg will be read again from the committed offset).
 */
export function finishConsumed(msg: unknown, source: FinishSource): FinishAnswer | 'none' | 'gone' {
  const token = tokenOf(msg);
  if (!token) return 'none';
  const handler = handlers.get(token.node);
  if (!handler) return 'gone';
  return handler(token, source);
}
