// A filtered-stream node's rule list as the user wrote it, cleaned and checked before X is asked:
// browser-safe, so the editor checks the list with this very code (scripts/editor-bundle.js).

export interface RuleSpec {
  value: string;
  tag?: string;
}

export interface RuleProblem {
  index: number;
  value: string;
  /** What is wrong, as X or this check says it (English). */
  messages: string[];
  /** The checks of normaliseRules: a tag without a value, or a value listed before (at `first`). */
  code?: 'tagOnly' | 'duplicate';
  first?: number;
}

/** The node's list, cleaned: blank rows out, values trimmed; problems for what X would refuse anyway. */
export function normaliseRules(input: unknown): { rules: RuleSpec[]; problems: RuleProblem[] } {
  const rules: RuleSpec[] = [];
  const problems: RuleProblem[] = [];
  const seen = new Map<string, number>();
  const list = Array.isArray(input) ? input : [];
  list.forEach((item, index) => {
    const o = (item && typeof item === 'object' ? item : {}) as { value?: unknown; tag?: unknown };
    const value = typeof o.value === 'string' ? o.value.trim() : '';
    const tag = typeof o.tag === 'string' ? o.tag.trim() : '';
    if (value === '' && tag === '') return; // an empty row of the editor
    if (value === '') {
      problems.push({ index, value, messages: ['the rule has a tag but no value'], code: 'tagOnly' });
      return;
    }
    const first = seen.get(value);
    if (first !== undefined) {
      problems.push({ index, value, messages: [`the same rule as #${first + 1}`], code: 'duplicate', first });
      return;
    }
    seen.set(value, index);
    rules.push(tag ? { value, tag } : { value });
  });
  return { rules, problems };
}
