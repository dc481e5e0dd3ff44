// Filtered-stream rules kept in step with a node's list: on deploy, rules this node added before
// and no longer lists are deleted, missing ones are added, and rules it did not create are left
// alone. "Added before" is the list of rules (id, value, tag) the node keeps in its context.
// validateRules runs the list as dry_run=true and says, rule by rule, what X thinks of it.
import { normaliseRules, type RuleProblem, type RuleSpec } from './rule-list';
import { XApiError } from './x-client';

export interface XRule {
  id: string;
  value: string;
  tag?: string;
}

export const RULES_PATH = '/2/tweets/search/stream/rules';
const MAX_RULE_PAGES = 20;

/** Rules rejected before or by X (invalid syntax, duplicates, too long, over the cap). */
export class XRulesError extends Error {
  constructor(message: string, readonly problems: RuleProblem[], cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'XRulesError';
  }
}

export interface RulesPlan {
  add: RuleSpec[];
  /** Rules this node created that are no longer listed (or whose tag changed). */
  remove: XRule[];
  /** Rules this node created and still lists. */
  keep: XRule[];
  /** Listed values that exist at X but were not created by this node: left alone, not added. */
  foreign: Array<{ wanted: RuleSpec; existing: XRule }>;
}

const sameTag = (a?: string, b?: string) => (a ?? '') === (b ?? '');

/** What to delete and add so that X has the node's list, touching only the node's own rules. */
export function planRulesSync(desired: RuleSpec[], existing: XRule[], owned: XRule[]): RulesPlan {
  const ownedIds = new Set(owned.map((r) => r.id));
  const byValue = new Map(existing.map((r) => [r.value, r]));
  const wanted = new Map(desired.map((r) => [r.value, r]));
  const plan: RulesPlan = { add: [], remove: [], keep: [], foreign: [] };
  for (const r of existing) {
    if (!ownedIds.has(r.id)) continue;
    const w = wanted.get(r.value);
    if (w && sameTag(w.tag, r.tag)) plan.keep.push(r);
    else plan.remove.push(r);
  }
  const removed = new Set(plan.remove.map((r) => r.id));
  for (const w of desired) {
    const e = byValue.get(w.value);
    if (!e || removed.has(e.id)) plan.add.push(w);
    else if (!ownedIds.has(e.id)) plan.foreign.push({ wanted: w, existing: e });
  }
  return plan;
}

export interface RestClient {
  get(path: string, query?: Record<string, string | number | undefined>, what?: string): Promise<{ data: any; headers: unknown }>;
  post(path: string, body: unknown, query?: Record<string, string>, what?: string): Promise<{ data: any; headers: unknown }>;
}

/** Every rule of the app (GET .../rules, paged). */
export async function listRules(client: RestClient): Promise<XRule[]> {
  const out: XRule[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_RULE_PAGES; page++) {
    const res = await client.get(RULES_PATH, { max_results: 1000, pagination_token: token }, 'rules lookup');
    const data = res.data as { data?: XRule[]; meta?: { next_token?: string } } | undefined;
    for (const r of data?.data ?? []) out.push(r.tag === undefined ? { id: r.id, value: r.value } : { id: r.id, value: r.value, tag: r.tag });
    token = data?.meta?.next_token;
    if (!token) break;
  }
  return out;
}

/** Per-rule messages from X's `errors` (invalid-rules: details; duplicate-rules: the existing id). */
function problemsFromErrors(errors: unknown, rules: RuleSpec[], indexOf: (value: string) => number): RuleProblem[] {
  const out: RuleProblem[] = [];
  if (!Array.isArray(errors)) return out;
  for (const e of errors as Array<Record<string, unknown>>) {
    if (!e || typeof e !== 'object') continue;
    const value = typeof e.value === 'string' ? e.value : '';
    const details = Array.isArray(e.details) ? e.details.map(String) : [];
    const title = typeof e.title === 'string' ? e.title : typeof e.message === 'string' ? e.message : 'rejected';
    const messages = title === 'DuplicateRule' ? [`already exists at X (rule id ${String(e.id ?? '?')})`] : details.length ? details : [title];
    const index = rules.some((r) => r.value === value) ? indexOf(value) : -1;
    out.push({ index, value, messages });
  }
  return out;
}

export interface SyncResult {
  added: XRule[];
  removed: XRule[];
  kept: XRule[];
  foreign: RulesPlan['foreign'];
  /** The rules this node owns now: store them for the next sync. */
  owned: XRule[];
  /** Rules X already had that the add refused as duplicates (created meanwhile by someone else). */
  duplicates: RuleProblem[];
}

/**
 * Brings X's rules in line with `desired`. `saveOwned` is called after each change so that a
 * failure half-way still leaves the right list behind. Throws XRulesError for rules X refuses,
 * XApiError / XNetworkError for the rest.
 */
export async function syncRules(client: RestClient, desired: RuleSpec[], owned: XRule[], saveOwned: (owned: XRule[]) => Promise<void> | void, indexOf: (value: string) => number = (v) => desired.findIndex((r) => r.value === v)): Promise<SyncResult> {
  const existing = await listRules(client);
  const plan = planRulesSync(desired, existing, owned);
  const existingIds = new Set(existing.map((r) => r.id));
  // Rules deleted at X meanwhile are no longer ours to track.
  let mine = owned.filter((r) => existingIds.has(r.id));
  if (plan.remove.length) {
    await client.post(RULES_PATH, { delete: { ids: plan.remove.map((r) => r.id) } }, {}, 'rules delete');
    const gone = new Set(plan.remove.map((r) => r.id));
    mine = mine.filter((r) => !gone.has(r.id));
    await saveOwned(mine);
  } else if (mine.length !== owned.length) {
    await saveOwned(mine);
  }
  const added: XRule[] = [];
  let duplicates: RuleProblem[] = [];
  if (plan.add.length) {
    let res;
    try {
      res = await client.post(RULES_PATH, { add: plan.add }, {}, 'rules add');
    } catch (err) {
      throw rulesErrorFrom(err, plan.add, indexOf);
    }
    for (const r of (res.data?.data ?? []) as XRule[]) added.push(r.tag === undefined ? { id: r.id, value: r.value } : { id: r.id, value: r.value, tag: r.tag });
    duplicates = problemsFromErrors(res.data?.errors, plan.add, indexOf);
    mine = [...mine, ...added];
    await saveOwned(mine);
  }
  return { added, removed: plan.remove, kept: plan.keep, foreign: plan.foreign, owned: mine, duplicates };
}

/** A 400 for the rules as an XRulesError naming each rule; anything else unchanged. */
function rulesErrorFrom(err: unknown, rules: RuleSpec[], indexOf: (value: string) => number): unknown {
  if (!(err instanceof XApiError) || err.status !== 400) return err;
  const body = err.body as { errors?: unknown } | undefined;
  const problems = problemsFromErrors(body?.errors, rules, indexOf).filter((p) => p.value !== '');
  // A refusal that names no rule (the rule cap, a malformed request) stays an XApiError.
  if (!problems.length) return err;
  return new XRulesError(`X refused ${problems.length} rule(s): ${problems.map((p) => `"${p.value}": ${p.messages.join('; ')}`).join(' | ')}`.slice(0, 1000), problems, err);
}

export type RuleVerdict = 'valid' | 'kept' | 'exists' | 'invalid';

export interface RuleValidation {
  index: number;
  value: string;
  tag?: string;
  verdict: RuleVerdict;
  messages: string[];
}

/**
 * The editor's "validate": each row of `input` checked locally, then (what would be added) by X
 * with dry_run=true. Nothing changes at X.
 */
export async function validateRules(client: RestClient, input: unknown, owned: XRule[]): Promise<RuleValidation[]> {
  const list = Array.isArray(input) ? input : [];
  const { rules, problems } = normaliseRules(list);
  const results = new Map<number, RuleValidation>();
  const rowOf = new Map<string, number>();
  list.forEach((item, index) => {
    const value = typeof (item as { value?: unknown })?.value === 'string' ? (item as { value: string }).value.trim() : '';
    if (value && !rowOf.has(value)) rowOf.set(value, index);
  });
  for (const p of problems) results.set(p.index, { index: p.index, value: p.value, verdict: 'invalid', messages: p.messages });
  const existing = await listRules(client);
  const plan = planRulesSync(rules, existing, owned);
  const set = (value: string, verdict: RuleVerdict, messages: string[]) => {
    const index = rowOf.get(value) ?? -1;
    const tag = rules.find((r) => r.value === value)?.tag;
    results.set(index, { index, value, ...(tag ? { tag } : {}), verdict, messages });
  };
  for (const r of plan.keep) set(r.value, 'kept', []);
  for (const f of plan.foreign) {
    set(f.wanted.value, 'exists', [
      `already at X as rule ${f.existing.id}, not created by this node: it is used as it is and left alone` +
        (sameTag(f.wanted.tag, f.existing.tag) ? '' : ` (its tag is "${f.existing.tag ?? ''}")`),
    ]);
  }
  if (plan.add.length) {
    // A rule this node would replace (tag change) is still at X: X would call it a duplicate.
    const replacing = new Set(plan.remove.map((r) => r.value));
    try {
      const res = await client.post(RULES_PATH, { add: plan.add }, { dry_run: 'true' }, 'rules validation');
      const dup = problemsFromErrors(res.data?.errors, plan.add, (v) => rowOf.get(v) ?? -1);
      const dupValues = new Set(dup.map((d) => d.value));
      for (const r of plan.add) {
        if (dupValues.has(r.value) && !replacing.has(r.value)) set(r.value, 'exists', dup.find((d) => d.value === r.value)!.messages);
        else set(r.value, 'valid', []);
      }
    } catch (err) {
      const e = rulesErrorFrom(err, plan.add, (v) => rowOf.get(v) ?? -1);
      if (!(e instanceof XRulesError)) throw e;
      const bad = new Map(e.problems.map((p) => [p.value, p]));
      for (const r of plan.add) {
        const p = bad.get(r.value);
        if (p && !(replacing.has(r.value) && p.messages[0]?.startsWith('already exists'))) set(r.value, 'invalid', p.messages);
        else set(r.value, 'valid', []);
      }
      // X refuses the whole request for one bad rule; the rest were checked and are fine.
    }
  }
  return [...results.values()].sort((a, b) => a.index - b.index);
}
