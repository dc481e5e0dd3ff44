// A node status as a message key and its values, not as finished text, so the editor can
// show it in the editor's language (Node-RED translates statuses on the server, in the
// runtime's). The runtime still sends `text` (rendered in its own language) for Status
// nodes and logs; `i18n` carries the same status for the editor, which renders it again
// with its own catalogue (src/lib/editor/status.ts). One renderer serves both sides.

/** A value in a status: plain text, a number, another message (e.g. a translated reason), or a list of them (shown joined by ", "). */
export type StatusValue = string | number | StatusMessage | readonly StatusValue[];

export interface StatusMessage {
  /** Key in the node's catalogue section, e.g. "status.connected" for streamsafe-kafka-producer.status.connected. */
  key: string;
  values?: Record<string, StatusValue>;
}

/** One message, or several shown joined by " · ". */
export type StatusText = StatusMessage | readonly StatusMessage[];

export type Fill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';
export type Shape = 'ring' | 'dot';

/** What node.status() receives. */
export interface NodeStatus {
  fill?: Fill;
  shape?: Shape;
  text?: string;
  i18n?: StatusText;
}

/** Translates a full key (node type + "." + message key) with its values. */
export type StatusTranslate = (key: string, values?: Record<string, string | number>) => string;

/** A status line is cut to this many characters: a longer one runs over the nodes beside it. */
export const STATUS_MAX_CHARS = 60;

export function clip(text: string, max = STATUS_MAX_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** One message in the language of `t`, its nested messages first; not clipped (a validation reason, a log line). */
export function renderMessage(m: StatusMessage, t: StatusTranslate): string {
  const values: Record<string, string | number> = {};
  for (const [name, v] of Object.entries(m.values ?? {})) values[name] = renderValue(v, t);
  return m.values ? t(m.key, values) : t(m.key);
}

function renderValue(v: StatusValue, t: StatusTranslate): string | number {
  if (Array.isArray(v)) return (v as readonly StatusValue[]).map((x) => renderValue(x, t)).join(', ');
  return typeof v === 'object' && v !== null ? renderMessage(v as StatusMessage, t) : (v as string | number);
}

/** The status text in the language of `t`, clipped to `max` characters. */
export function renderStatus(text: StatusText, t: StatusTranslate, max = STATUS_MAX_CHARS): string {
  const parts = Array.isArray(text) ? (text as readonly StatusMessage[]) : [text as StatusMessage];
  return clip(parts.map((m) => renderMessage(m, t)).join(' · '), max);
}

/** node.status() argument: `text` in the runtime's language, `i18n` for the editor's. */
export function localStatus(fill: Fill | undefined, shape: Shape | undefined, text: StatusText, t: StatusTranslate, max = STATUS_MAX_CHARS): NodeStatus {
  return { fill, shape, text: renderStatus(text, t, max), i18n: text };
}

/** Shorthand for a message. */
export function msg(key: string, values?: Record<string, StatusValue>): StatusMessage {
  return values ? { key, values } : { key };
}
