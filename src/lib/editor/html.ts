// Node-RED's i18n interpolates values unescaped (escapeValue: false) and the editor shows
// a node's invalid-property reasons as HTML (the node's hover tooltip): a value from the
// flow (an imported broker list, a typed topic) must reach a message as text only.

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** The values with every string HTML-escaped (numbers as they are). */
export function htmlSafe(values: Readonly<Record<string, string | number>>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(values)) out[k] = typeof v === 'string' ? escapeHtml(v) : v;
  return out;
}
