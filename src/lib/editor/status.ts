// Editor side of src/lib/common/status-message.ts: re-renders the status of our nodes
// with the editor's catalogue, so a Korean editor reads Korean statuses whatever the
// runtime's language. Runs in the browser (bundled into each node's editor .html).
import { renderStatus, type StatusText } from '../common/status-message';

interface EditorNode {
  type: string;
  status?: unknown;
  dirty?: boolean;
  dirtyStatus?: boolean;
  _(key: string, values?: Record<string, unknown>): string;
}
interface EditorRED {
  comms: { subscribe(topic: string, fn: (topic: string, msg: { text?: string; i18n?: StatusText }) => void): void };
  nodes: { node(id: string): EditorNode | null };
  view: { redrawStatus(node: EditorNode): void };
}

/** The status text for `node` in the editor's language. */
export function editorStatusText(node: EditorNode, text: StatusText): string {
  return renderStatus(text, (key, values) => node._(`${node.type}.${key}`, values));
}

let installed = false;

/** Subscribes once to node statuses and translates those that carry `i18n`. */
export function installStatusTranslation(RED: EditorRED): void {
  if (installed) return;
  installed = true;
  RED.comms.subscribe('status/#', (topic, status) => {
    if (!status || !status.i18n) return;
    const node = RED.nodes.node(topic.split('/')[1]);
    if (!node || !node.type.startsWith('streamsafe-')) return;
    try {
      status.text = editorStatusText(node, status.i18n);
    } catch {
      return; // keep the runtime's text
    }
    node.status = status;
    node.dirty = node.dirtyStatus = true;
    RED.view.redrawStatus(node);
  });
}
