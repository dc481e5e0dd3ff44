// Editor side of src/lib/common/status-message.ts: re-renders the status of our nodes
// with the editor's catalogue, so a Korean editor reads Korean statuses whatever the
// runtime's language. Runs in the browser (bundled into each node's editor .html).
import { renderStatus, STATUS_I18N_TOPIC, type StatusNote, type StatusText } from '../common/status-message';

interface EditorNode {
  type: string;
  status?: unknown;
  dirty?: boolean;
  dirtyStatus?: boolean;
  _(key: string, values?: Record<string, unknown>): string;
}
interface EditorRED {
  comms: { subscribe(topic: string, fn: (topic: string, msg: any) => void): void };
  nodes: { node(id: string): EditorNode | null };
  view: { redrawStatus(node: EditorNode): void };
}

/** The status text for `node` in the editor's language. */
export function editorStatusText(node: EditorNode, text: StatusText): string {
  return renderStatus(text, (key, values) => node._(`${node.type}.${key}`, values));
}

let installed = false;

/**
 * Subscribes once to node statuses and translates those of our nodes that carry a message:
 * `i18n` on the status itself, or (as Node-RED forwards only text, fill and shape) the note on
 * STATUS_I18N_TOPIC for that node whose runtime text is the status's text. Either may arrive
 * first; the other one applies it.
 */
export function installStatusTranslation(RED: EditorRED): void {
  if (installed) return;
  installed = true;
  const notes = new Map<string, StatusNote>();
  const apply = (id: string, status: { text?: string; i18n?: StatusText } | undefined) => {
    if (!status) return;
    const note = notes.get(id);
    const i18n = status.i18n ?? (note && note.text === status.text ? note.i18n : undefined);
    if (!i18n) return;
    const node = RED.nodes.node(id);
    if (!node || !node.type.startsWith('streamsafe-')) return;
    try {
      status.text = editorStatusText(node, i18n);
    } catch {
      return; // keep the runtime's text
    }
    node.status = status;
    node.dirty = node.dirtyStatus = true;
    RED.view.redrawStatus(node);
  };
  RED.comms.subscribe('status/#', (topic, status) => apply(topic.split('/')[1], status));
  RED.comms.subscribe(`${STATUS_I18N_TOPIC}/#`, (topic, note) => {
    const id = topic.split('/')[1];
    if (!note || typeof (note as StatusNote).text !== 'string' || !(note as StatusNote).i18n) {
      notes.delete(id);
      return;
    }
    notes.set(id, note as StatusNote);
    const node = RED.nodes.node(id);
    // The status this note belongs to may already be shown (in the runtime's language).
    if (node && node.status && typeof node.status === 'object' && (node.status as { text?: string }).text === (note as StatusNote).text) {
      apply(id, node.status as { text?: string });
    }
  });
}
