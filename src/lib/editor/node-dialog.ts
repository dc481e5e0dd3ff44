// What the editor rules of src/lib/editor/*.ts read from the editor: the open dialog's inputs
// (another field's current value), other nodes (a config node), and a node's catalogue. Behind
// an interface so the rules are unit-tested in Node with a stand-in; browserDialog() is the real
// thing, reading Node-RED's RED and jQuery globals, and is only called in the browser.

/** A node as the editor holds it: its properties, its validity, its catalogue. */
export interface EditorNode {
  type?: string;
  valid?: boolean;
  validationErrors?: unknown[];
  credentials?: Record<string, unknown>;
  _?: (key: string, values?: Record<string, unknown>) => string;
  [property: string]: unknown;
}

export interface DialogEnv {
  /** true when `node`'s edit dialog is open (it is on the edit stack). */
  editing(node: object): boolean;
  /** The value of the input #<id> (a checkbox: its checked state); undefined when there is none. */
  input(id: string): unknown;
  /** A node (e.g. a config node) by id, or null. */
  node(id: string): EditorNode | null;
}

declare const RED: {
  editor?: { getEditStack?: () => object[] };
  nodes: { node(id: string): EditorNode | null };
};
declare const $: (selector: string) => { length: number; attr(name: string): string | undefined; prop(name: string): unknown; val(): unknown };

/** The editor's own dialog, nodes and inputs. */
export function browserDialog(): DialogEnv {
  return {
    editing: (node) => {
      const stack = RED.editor && RED.editor.getEditStack ? RED.editor.getEditStack() : [];
      return stack.indexOf(node) !== -1;
    },
    input: (id) => {
      const el = $(`#${id}`);
      if (!el.length) return undefined;
      return el.attr('type') === 'checkbox' ? el.prop('checked') : el.val();
    },
    node: (id) => RED.nodes.node(id),
  };
}

/**
 * The values of `fields` as the user sees them now: from the open dialog when `node` is being
 * edited and the dialog has an input for the field (#<prefix>-<field>), else the node's own.
 */
export function currentValues(node: EditorNode, fields: readonly string[], prefix: string, env: DialogEnv): Record<string, unknown> {
  const editing = env.editing(node);
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const shown = editing ? env.input(`${prefix}-${field}`) : undefined;
    out[field] = shown !== undefined ? shown : node[field];
  }
  return out;
}

/** Translates a key of `type`'s catalogue section with the node's own translator (the editor's language). */
export function translator(node: EditorNode, type: string): (key: string, values?: Record<string, string | number>) => string {
  return (key, values) => (node._ ? node._(`${type}.${key}`, values) : key);
}
