// Timings a node takes from Node-RED's settings.js (e.g. `streamsafeKafkaConsumer: { ... }`):
// each key of the defaults may be given as a positive number; anything else keeps the default.
// Some are capped (a close must end before Node-RED's 15 s close timeout).

/** `given`: the settings object found under the node's key (or undefined / anything else). */
export function timingsFrom<T extends { [K in keyof T]: number }>(given: unknown, defaults: T, caps: Partial<Record<keyof T, number>> = {}): T {
  const out = { ...defaults };
  if (!given || typeof given !== 'object') return out;
  const g = given as Record<string, unknown>;
  for (const k of Object.keys(out) as Array<keyof T & string>) {
    if (g[k] === undefined) continue;
    const v = Number(g[k]);
    if (!Number.isFinite(v) || v <= 0) continue;
    const cap = caps[k];
    (out as Record<string, number>)[k] = cap !== undefined ? Math.min(v, cap) : v;
  }
  return out;
}

/** The object under `key` in Node-RED's settings (RED.settings throws for a key never set in some versions). */
export function nodeSettings(settings: unknown, key: string): unknown {
  try {
    return (settings as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}
