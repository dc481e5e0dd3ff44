// The X stream and X credentials editors' rules: the very functions the runtime checks the
// settings with (lib/x/options, access, credentials, fields, rule-list), turned into Node-RED
// validators that return the translated short reason (Node-RED 4 marks the field red with it as
// the tooltip, and warns at deploy), plus what the dialogs show from the same tables (the access
// level's summary, the field lists, the defaults). Bundled into the editor .html files as
// window.streamsafeEditor.x (scripts/editor-bundle.js): browser-safe imports only.
import { msg, renderMessage, type StatusMessage } from '../common/status-message';
import { accessSummary as levelSummary, checkRulesForAccess, DEFAULT_ACCESS_LEVEL, isAccessLevel, ruleCountProblem } from '../x/access';
import { credentialsMessage, X_REQUEST_TIMEOUT_MS, unknownAccessLevel, xCredentialsProblems, type XSecrets } from '../x/credentials';
import { DEFAULT_EXPANSIONS, DEFAULT_TWEET_FIELDS, DEFAULT_USER_FIELDS, EXPANSIONS, TWEET_FIELDS, USER_FIELDS } from '../x/fields';
import { fieldWarnings, X_STREAM_NUMBERS, xStreamProblems } from '../x/options';
import { X_RECONNECT_DEFAULTS } from '../x/reconnect-settings';
import { normaliseRules } from '../x/rule-list';
import { browserDialog, currentValues, translator, type DialogEnv, type EditorNode } from './node-dialog';

const STREAM = 'streamsafe-x-stream';
const CREDENTIALS = 'streamsafe-x-credentials';

/** The field lists the X stream dialog offers (X's OpenAPI enums) and their defaults. */
export const fields = { TWEET_FIELDS, USER_FIELDS, EXPANSIONS, DEFAULT_TWEET_FIELDS, DEFAULT_USER_FIELDS, DEFAULT_EXPANSIONS };

/** The default of every number field of the X stream node, as the editor's `value:` and placeholders (strings). */
export const streamDefaults: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries([
    ...Object.entries(X_STREAM_NUMBERS).map(([k, [d]]) => [k, String(d)]),
    ...Object.entries(X_RECONNECT_DEFAULTS).map(([k, d]) => [k, String(d)]),
  ]),
);

/** The default request timeout of the X credentials node (ms, a string). */
export const credentialsTimeoutDefault = String(X_REQUEST_TIMEOUT_MS[0]);

const STREAM_FIELDS = ['account', 'mode', 'rules', 'query', 'tweetFields', 'userFields', 'expansions', 'recovery', 'overflow', ...Object.keys(streamDefaults)];
const FIELD_LISTS = ['tweetFields', 'userFields', 'expansions'] as const;

/** The account's access level: its config node's `access` (live from its dialog when that is open); undefined without an account. */
export function accessLevelOf(accountId: unknown, env: DialogEnv = browserDialog()): string | undefined {
  if (typeof accountId !== 'string' || accountId === '' || accountId === '_ADD_') return undefined;
  const account = env.node(accountId);
  if (!account) return undefined;
  const level = env.editing(account) ? env.input('node-config-input-access') ?? account.access : account.access;
  return isAccessLevel(level) ? level : DEFAULT_ACCESS_LEVEL;
}

/** Why the account field is not usable: none chosen, gone, or a credentials node that is itself invalid. */
function accountProblem(accountId: unknown, env: DialogEnv): StatusMessage | undefined {
  if (typeof accountId !== 'string' || accountId === '' || accountId === '_ADD_') return msg('errors.noAccount');
  const account = env.node(accountId);
  if (!account) return msg('errors.noAccount');
  if (account.valid === false) {
    const why = (account.validationErrors ?? []).filter((e) => typeof e === 'string').join('; ');
    return msg('errors.account', { reason: why || '?' });
  }
  return undefined;
}

/** The first problem of one field of the X stream node (a message of its catalogue), undefined when it is fine. */
export function streamProblem(node: EditorNode, field: string, value: unknown, env: DialogEnv = browserDialog()): StatusMessage | undefined {
  const values = currentValues(node, STREAM_FIELDS, 'node-input', env);
  values[field] = value;
  if (field === 'account') return accountProblem(value, env);
  if ((FIELD_LISTS as readonly string[]).includes(field)) {
    const unknown = fieldWarnings(values)[field as (typeof FIELD_LISTS)[number]];
    return unknown ? msg('errors.unknownFields', { fields: unknown.join(', ') }) : undefined;
  }
  return xStreamProblems(values, accessLevelOf(values.account, env)).find((p) => p.field === field)?.message;
}

/** A Node-RED validator's answer for one field of the X stream node: true, or the reason in the editor's language. */
export function validateStream(node: EditorNode, field: string, value: unknown, env: DialogEnv = browserDialog()): true | string {
  const p = streamProblem(node, field, value, env);
  return p ? renderMessage(p, translator(node, STREAM)) : true;
}

/** What the account's level allows, one line for the dialog ("Pay-per-use: filtered stream: ..."), in the editor's language. */
export function accessLine(node: EditorNode, accountId: unknown, env: DialogEnv = browserDialog()): string {
  const t = translator(node, STREAM);
  const level = accessLevelOf(accountId, env);
  if (level === undefined) return t('access.noAccount');
  return describeLevel(level, t);
}

function describeLevel(level: string, t: (key: string, values?: Record<string, string | number>) => string): string {
  const s = levelSummary(level);
  return t('access.line', { level: renderMessage(s.level, t), limits: s.parts.map((p) => renderMessage(p, t)).join('; ') });
}

/** The X credentials dialog's line for a level (the same summary, from its own catalogue). */
export function credentialsAccessLine(node: EditorNode, level: unknown): string {
  return describeLevel(isAccessLevel(level) ? level : DEFAULT_ACCESS_LEVEL, translator(node, CREDENTIALS));
}

/**
 * The rules as the dialog's rows hold them, checked as the runtime will: per row, why it is
 * refused (a tag without value, a repeat, longer or further than the account's level allows);
 * and one line when the list is longer than the level allows. Rows with neither value nor tag
 * are dropped on save and do not count.
 */
export function rulesReport(
  node: EditorNode,
  rows: ReadonlyArray<{ value?: unknown; tag?: unknown }>,
  mode: unknown,
  accountId: unknown,
  env: DialogEnv = browserDialog(),
): { rows: Record<number, string>; list: string } {
  const t = translator(node, STREAM);
  const out: Record<number, string[]> = {};
  const add = (i: number, m: StatusMessage) => (out[i] ??= []).push(renderMessage(m, t));
  if (mode !== 'filtered' && mode !== undefined && mode !== '') return { rows: {}, list: '' };
  const { rules, problems } = normaliseRules(rows);
  for (const p of problems) add(p.index, p.code === 'duplicate' ? msg('errors.ruleDuplicate', { first: (p.first ?? 0) + 1 }) : msg('errors.ruleTagOnly'));
  // The rules kept, with the row each came from.
  const rowOf: number[] = [];
  const refused = new Set(problems.map((p) => p.index));
  rows.forEach((r, i) => {
    const value = typeof r.value === 'string' ? r.value.trim() : '';
    const tag = typeof r.tag === 'string' ? r.tag.trim() : '';
    if ((value || tag) && !refused.has(i)) rowOf.push(i);
  });
  const level = accessLevelOf(accountId, env);
  let list = '';
  if (level !== undefined) {
    for (const p of checkRulesForAccess(rules, level)) for (const m of p.messages) add(rowOf[p.index], m);
    const over = ruleCountProblem(rules.length, level);
    if (over) list = renderMessage(over, t);
  }
  return { rows: Object.fromEntries(Object.entries(out).map(([i, m]) => [i, m.join('; ')])), list };
}

// ---- X credentials ---------------------------------------------------------------------------

const CREDENTIAL_FIELDS = ['baseUrl', 'authType', 'timeout', 'access'];
const SECRETS = ['bearerToken', 'apiKey', 'apiSecret'] as const;

/** The secrets as the editor knows them: the dialog's inputs ('' or '__PWRD__' for a stored one), else the node's credentials; undefined when not loaded. */
function secretsOf(node: EditorNode, env: DialogEnv): XSecrets | undefined {
  if (env.editing(node)) {
    const shown: Record<string, unknown> = {};
    for (const s of SECRETS) shown[s] = env.input(`node-config-input-${s}`);
    if (SECRETS.some((s) => shown[s] !== undefined)) return shown;
  }
  return node.credentials as XSecrets | undefined;
}

/**
 * The first problem of one field of the X credentials node (a message of its catalogue). The
 * secrets are checked on their own fields in the dialog, and also on `authType` (Node-RED does
 * not validate credentials outside the dialog: without this, a node without its token would not
 * be marked invalid nor warned about at deploy).
 */
export function credentialsProblem(node: EditorNode, field: string, value: unknown, env: DialogEnv = browserDialog()): StatusMessage | undefined {
  if (field === 'access') return unknownAccessLevel(value);
  const values = currentValues(node, CREDENTIAL_FIELDS, 'node-config-input', env);
  let secrets = secretsOf(node, env);
  if ((SECRETS as readonly string[]).includes(field)) secrets = { ...(secrets ?? {}), [field]: value };
  else values[field] = value;
  const problems = xCredentialsProblems(values, secrets);
  const mine = field === 'authType' ? ['authType', ...SECRETS] : [field];
  const p = problems.find((x) => mine.includes(x.field));
  return p ? credentialsMessage(p) : undefined;
}

/** A Node-RED validator's answer for one field of the X credentials node: true, or the reason in the editor's language. */
export function validateCredentials(node: EditorNode, field: string, value: unknown, env: DialogEnv = browserDialog()): true | string {
  const p = credentialsProblem(node, field, value, env);
  return p ? renderMessage(p, translator(node, CREDENTIALS)) : true;
}

// ---- palette search ------------------------------------------------------------------------
//
// Node-RED's palette filter (refreshFilter in red.js) matches a palette entry's node type and its
// data-palette-label attribute only, and that attribute is set from paletteLabel, which is also
// the text shown. To be found as "twitter", "tweet" or "post" while still showing "X stream", the
// catalogue's search terms (paletteSearch, translated: Korean users find it as 트위터 too) are
// appended to that attribute only. Node-RED writes the attribute again whenever it (re)builds the
// entry (a module re-added, a reload after a language change), so a MutationObserver on the
// palette puts them back each time; the visible label is a separate element and never changes.
// The quick-add dialog (RED.typeSearch) matches the label and type only: there "X" and "stream" work.

/** Elements as much of the DOM as this needs. */
export interface PaletteElement {
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
}
export interface PaletteRoot {
  querySelectorAll(selector: string): ArrayLike<PaletteElement>;
}

const APPLIED = 'data-streamsafe-search';

/** Appends `terms` to the data-palette-label of `type`'s palette entries that do not have them; true if it changed any. */
export function applyPaletteSearch(root: PaletteRoot, type: string, terms: string): boolean {
  let changed = false;
  const entries = root.querySelectorAll(`.red-ui-palette-node[data-palette-type="${type}"]`);
  for (let i = 0; i < entries.length; i++) {
    const el = entries[i];
    const label = el.getAttribute('data-palette-label') ?? '';
    if (label === el.getAttribute(APPLIED)) continue; // ours, untouched since
    const value = terms ? `${label} ${terms}` : label;
    el.setAttribute(APPLIED, value);
    el.setAttribute('data-palette-label', value);
    changed = true;
  }
  return changed;
}

declare const document: PaletteRoot & { getElementById(id: string): unknown; body: unknown };
declare const MutationObserver: new (fn: () => void) => { observe(target: unknown, options: Record<string, unknown>): void };
declare const RED: { nodes: { getType(type: string): { _?: (key: string) => string } | undefined } };

const installed = new Set<string>();

/** Keeps the catalogue's search terms (<type>.paletteSearch) on `type`'s palette entry, now and whenever Node-RED rebuilds it. */
export function installPaletteSearch(type: string): void {
  if (installed.has(type) || typeof MutationObserver === 'undefined') return;
  installed.add(type);
  const terms = () => {
    const def = RED.nodes.getType(type);
    const text = def && def._ ? def._(`${type}.paletteSearch`) : '';
    return text === `${type}.paletteSearch` ? '' : text;
  };
  const apply = () => applyPaletteSearch(document, type, terms());
  apply();
  const palette = document.getElementById('red-ui-palette') ?? document.body;
  new MutationObserver(apply).observe(palette, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-palette-label'] });
}
