// A node status as a message key and its values, not as finished text, so the editor can
// show it in the editor's language (Node-RED translates statuses on the server, in the
// runtime's). The runtime still sends `text` (rendered in its own language) for Status
// nodes and logs; `i18n` carries the same status for the editor, which renders it again
// with its own catalogue (src/lib/editor/status.ts). One renderer serves both sides.
// Node-RED forwards only text, fill and shape of a status to the editor, so `i18n` travels
// on a comms topic of its own (statusPublisher below).

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

/** Shorthand for a message (no `values` when there are none). */
export function msg(key: string, values?: Record<string, StatusValue>): StatusMessage {
  return values && Object.keys(values).length ? { key, values } : { key };
}

/**
 * Node-RED's runtime sends the editor only `text`, `fill` and `shape` of a status
 * (@node-red/runtime lib/api/comms.js handleStatusEvent, in 4.x and 5.x): the message goes on
 * this comms topic too ("streamsafe-status/<node id>"), retained like the status itself, and
 * the editor (src/lib/editor/status.ts) applies it to the status whose runtime text it matches.
 */
export const STATUS_I18N_TOPIC = 'streamsafe-status';

/** What goes on STATUS_I18N_TOPIC: the runtime's text (to match the status) and the message. */
export interface StatusNote {
  text: string;
  i18n: StatusText;
}

/** RED.comms.publish of the node API. */
export type CommsPublish = (topic: string, data: unknown, retain: boolean) => void;

/**
 * A node's status setter: node.status(), and the message on STATUS_I18N_TOPIC for the editor
 * (a status without one, or a cleared status, removes the retained note).
 */
export function statusPublisher(node: { id: string; status(status: NodeStatus | Record<string, never>): void }, publish: CommsPublish): (status: NodeStatus | Record<string, never>) => void {
  const topic = `${STATUS_I18N_TOPIC}/${node.id}`;
  let noted = false;
  return (status) => {
    node.status(status);
    const s = status as NodeStatus;
    if (s.i18n && s.text) {
      publish(topic, { text: s.text, i18n: s.i18n } satisfies StatusNote, true);
      noted = true;
    } else if (noted) {
      publish(topic, {}, false);
      noted = false;
    }
  };
}
