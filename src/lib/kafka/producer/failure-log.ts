// The words of the producer node's summarised log lines (src/lib/common/log-summary.ts
// counts; this renders), the key of a failed msg as log text, and the short reason of
// a failure for the status ("INVALID_TIMESTAMP", "DeliveryTimeoutError").

import { cut, type LogLine } from '../../common/log-summary';

/** Translates a key of the node's catalogue (relative, e.g. "log.recordFailed"). */
export type Translate = (key: string, values?: Record<string, string | number>) => string;

const KEY_CHARS = 40;

/** A msg key as log text: text as is, bytes as hex, null when there is none. */
export function keyText(key: unknown): string | null {
  if (key === null || key === undefined) return null;
  if (typeof key === 'string') return cut(key, KEY_CHARS);
  if (Buffer.isBuffer(key) || key instanceof Uint8Array) {
    const b = Buffer.from(key);
    return cut(`0x${b.subarray(0, 16).toString('hex')}${b.length > 16 ? '…' : ''}`, KEY_CHARS);
  }
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') return String(key);
  try {
    return cut(JSON.stringify(key) ?? String(key), KEY_CHARS);
  } catch {
    return cut(String(key), KEY_CHARS);
  }
}

/** An error's name (what Catch nodes tell apart), "Error" when it has none. */
export function errorKind(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name ? name : 'Error';
}

export function errorMessage(err: unknown): string {
  const m = (err as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m : String(err);
}

/** The shortest name of a failure for the status: the broker's error code, or the error's name. */
export function shortReason(err: unknown): string {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type ? type : errorKind(err);
}

/** "Kind: reason", once (a reason may start with its kind already). */
export function errorText(kind: string, reason: string): string {
  return reason.startsWith(`${kind}:`) ? reason : `${kind}: ${reason}`;
}

function keysText(keys: Array<string | null>, more: boolean, t: Translate): string {
  const list = keys.map((k) => (k === null ? t('log.noKey') : k));
  if (more) list.push('…');
  return list.join(', ');
}

/** A line about failed records: the first at once (with its key), then the count per period. */
export function recordLogLine(line: LogLine, t: Translate): string {
  const error = errorText(line.kind, line.reason);
  if (line.type === 'first') {
    return t('log.recordFailed', { key: line.key == null ? t('log.noKey') : line.key, error });
  }
  const seconds = Math.max(1, Math.round(line.periodMs / 1000));
  const keys = line.keys.length || line.moreKeys ? keysText(line.keys, line.moreKeys, t) : t('log.noKey');
  return t('log.recordsFailed', { count: line.count, seconds, error, keys });
}
