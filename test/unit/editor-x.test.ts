// The X editors' rules (src/lib/editor/x.ts, bundled into the .html files): each field's
// validator gives the lib's rule (lib/x/options, access, credentials: the runtime's own checks)
// as the reason in the editor's language, reads the other fields from the open dialog when
// there is one, and the palette entry carries the search terms. A stand-in dialog and the real
// en-US and ko catalogues; the browser itself is test/browser's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderMessage } from '../../src/lib/common/status-message';
import type { DialogEnv, EditorNode } from '../../src/lib/editor/node-dialog';
import {
  accessLevelOf,
  accessLine,
  applyPaletteSearch,
  credentialsAccessLine,
  credentialsProblem,
  rulesReport,
  streamDefaults,
  streamProblem,
  validateCredentials,
  validateStream,
  type PaletteElement,
} from '../../src/lib/editor/x';
import { DEFAULT_STALL_TIMEOUT_MS } from '../../src/lib/x/access';
import { xCredentialsProblems } from '../../src/lib/x/credentials';
import { xStreamProblems } from '../../src/lib/x/options';
import { catalogue } from './catalogue';

const STREAM = 'streamsafe-x-stream';
const CREDENTIALS = 'streamsafe-x-credentials';

/** A node as the editor has it, its `_` reading the real catalogue of `lang`. */
function editorNode(type: string, props: Record<string, unknown>, lang = 'en-US'): EditorNode {
  const t = catalogue(lang, type);
  return { type, ...props, _: (key: string, values?: Record<string, unknown>) => t(key.slice(type.length + 1), values as Record<string, string | number>) };
}

/** A stand-in editor: config nodes by id, and the dialog open for `editing` with these inputs. */
function dialog(nodes: Record<string, EditorNode> = {}, editing: object | null = null, inputs: Record<string, unknown> = {}): DialogEnv {
  return {
    editing: (n) => n === editing,
    input: (id) => inputs[id],
    node: (id) => nodes[id] ?? null,
  };
}

const accounts = (access?: string) => ({ acc: { type: CREDENTIALS, access } as EditorNode });

describe('editor/x: X stream fields', () => {
  it('each field\'s reason is the lib\'s rule (xStreamProblems), translated', () => {
    const env = dialog(accounts('pay-per-use'));
    const cases: Array<[Record<string, unknown>, string, unknown, string]> = [
      [{ mode: 'search' }, 'query', ' ', 'Recent search needs a query'],
      [{ mode: 'search' }, 'query', 'q'.repeat(600), 'The query has 600 characters: Pay-per-use allows at most 512'],
      [{}, 'mode', 'sample', 'The sample stream needs Enterprise access; Pay-per-use does not include it. Use the filtered stream (rules) or recent search.'],
      [{}, 'mode', 'firehose', 'Unknown mode "firehose": use filtered, sample or search'],
      [{}, 'maxResults', '5', 'Posts per page must be a whole number from 10 to 100, not "5"'],
      [{}, 'stallTimeoutMs', '0', 'Stall timeout must be a whole number from 1 to 3600000, not "0"'],
      [{}, 'rateLimitMaxMs', '1.5e9', 'HTTP 429: up to must be a whole number from 0 to 86400000, not "1.5e9"'],
      [{}, 'backfillMinutes', '3', 'Backfill needs Enterprise access; Pay-per-use does not include it. Leave it at 0: gap recovery uses recent search instead.'],
      [{}, 'rules', [{ value: 'a' }, { value: '', tag: 'x' }], 'rule 2: it has a tag but no value'],
      [{}, 'overflow', 'block', 'Unknown "when full" setting "block": use drop or pause'],
      [{}, 'expansions', 'author_id,nope', 'X does not list nope (sent anyway: X may refuse it)'],
      [{}, 'account', '', 'No X credentials (account) configured'],
      [{}, 'account', 'gone', 'No X credentials (account) configured'],
    ];
    for (const [props, field, value, reason] of cases) {
      const node = editorNode(STREAM, { account: 'acc', mode: 'filtered', ...props });
      assert.equal(validateStream(node, field, value, env), reason, `${field} = ${JSON.stringify(value).slice(0, 40)}`);
      // The lib says the same about that field (the account and the field lists have editor-only checks).
      if (!['account', 'expansions'].includes(field)) {
        const lib = xStreamProblems({ account: 'acc', mode: 'filtered', ...props, [field]: value }, 'pay-per-use').find((p) => p.field === field);
        assert.deepEqual(streamProblem(node, field, value, env), lib?.message, field);
      }
    }
  });

  it('valid values give true; every default is valid', () => {
    const env = dialog(accounts('enterprise'));
    const node = editorNode(STREAM, { account: 'acc', mode: 'filtered', rules: [{ value: 'kafka' }] });
    for (const [field, value] of Object.entries(streamDefaults)) assert.equal(validateStream(node, field, value, env), true, field);
    for (const field of ['account', 'mode', 'rules', 'query', 'tweetFields', 'userFields', 'expansions', 'overflow']) assert.equal(validateStream(node, field, node[field], env), true, field);
    assert.equal(streamDefaults.stallTimeoutMs, String(DEFAULT_STALL_TIMEOUT_MS));
    assert.equal(streamDefaults.maxClientErrorRetries, '3');
  });

  it('reads the other fields from the open dialog, not the saved node', () => {
    const node = editorNode(STREAM, { account: 'acc', mode: 'filtered', query: '' });
    // Saved: filtered, so a blank query is fine. In the open dialog the mode is "search".
    assert.equal(validateStream(node, 'query', '', dialog(accounts())), true);
    assert.equal(validateStream(node, 'query', '', dialog(accounts(), node, { 'node-input-mode': 'search' })), 'Recent search needs a query');
    // Another node's open dialog does not count.
    assert.equal(validateStream(node, 'query', '', dialog(accounts(), {}, { 'node-input-mode': 'search' })), true);
    // The account chosen in the dialog decides the level.
    const env = dialog({ ...accounts('pro'), ent: { access: 'enterprise' } }, node, { 'node-input-account': 'ent' });
    assert.equal(validateStream(node, 'mode', 'sample', env), true);
    assert.match(String(validateStream(node, 'mode', 'sample', dialog(accounts('pro')))), /Pro does not include it/);
  });

  it('the account\'s level: its access (live from its own open dialog), pay-per-use when unset or unknown, none without an account', () => {
    const acc = { type: CREDENTIALS, access: 'pro' } as EditorNode;
    assert.equal(accessLevelOf('acc', dialog({ acc })), 'pro');
    assert.equal(accessLevelOf('acc', dialog({ acc: { access: 'gold' } })), 'pay-per-use');
    assert.equal(accessLevelOf('acc', dialog({ acc }, acc, { 'node-config-input-access': 'enterprise' })), 'enterprise');
    assert.equal(accessLevelOf('_ADD_', dialog({ acc })), undefined);
    assert.equal(accessLevelOf('', dialog({ acc })), undefined);
  });

  it('an account whose credentials node is invalid: its reasons', () => {
    const env = dialog({ acc: { type: CREDENTIALS, valid: false, validationErrors: ['no bearer token is set'] } });
    assert.equal(validateStream(editorNode(STREAM, {}), 'account', 'acc', env), 'X credentials are unusable: no bearer token is set');
  });

  it('in Korean', () => {
    const node = editorNode(STREAM, { account: 'acc', mode: 'search' }, 'ko');
    assert.equal(validateStream(node, 'query', '', dialog(accounts())), '최근 검색에는 쿼리가 필요합니다');
    const label = catalogue('ko', STREAM)('label.maxResults');
    assert.equal(validateStream(node, 'maxResults', '5', dialog(accounts())), `${label} 값은 10~100 사이의 정수여야 합니다. 입력값: "5"`);
  });

  it('the rows of the rules list: why each is refused, by row; one line when the list is too long', () => {
    const node = editorNode(STREAM, {});
    const rows = [{ value: 'a' }, { value: '', tag: '' }, { value: 'a' }, { value: 'x'.repeat(1030) }, { value: '', tag: 't' }];
    const r = rulesReport(node, rows, 'filtered', 'acc', dialog(accounts('pro')));
    assert.deepEqual(r.rows, { 2: 'the same rule as rule 1', 3: '1,030 characters: Pro allows rules of at most 1,024', 4: 'it has a tag but no value' });
    assert.equal(r.list, '');
    const many = Array.from({ length: 1002 }, (_v, i) => ({ value: `r${i}` }));
    const over = rulesReport(node, many, 'filtered', 'acc', dialog(accounts('pay-per-use')));
    assert.equal(over.list, '1,002 rules: Pay-per-use allows 1,000');
    assert.deepEqual(Object.keys(over.rows), ['1000', '1001']);
    assert.deepEqual(rulesReport(node, many, 'search', 'acc', dialog(accounts('pay-per-use'))), { rows: {}, list: '' });
    assert.equal(rulesReport(node, many, 'filtered', '', dialog(accounts('pay-per-use'))).list, '', 'no account: no level to check against');
  });

  it('the access line of the dialogs, from the one table', () => {
    assert.match(accessLine(editorNode(STREAM, {}), 'acc', dialog(accounts('basic'))), /^Basic: no filtered stream; recent search 60 \/ 15 min/);
    assert.equal(accessLine(editorNode(STREAM, {}), '', dialog()), 'Choose an account to see what its access level allows.');
    assert.match(credentialsAccessLine(editorNode(CREDENTIALS, {}, 'ko'), 'enterprise'), /^Enterprise: filtered stream: 연결 2개, 규칙 25,000\+개/);
  });
});

describe('editor/x: X credentials fields', () => {
  const cred = (props: Record<string, unknown> = {}) => editorNode(CREDENTIALS, { authType: 'bearer', baseUrl: '', timeout: '', ...props });

  it('a bearer token or an API key + secret: a blank field is refused, a stored one (__PWRD__, has_) is not', () => {
    const open = cred();
    const env = (inputs: Record<string, unknown>) => dialog({}, open, inputs);
    assert.equal(validateCredentials(open, 'bearerToken', '', env({ 'node-config-input-bearerToken': '' })), 'no bearer token is set');
    assert.equal(validateCredentials(open, 'bearerToken', '__PWRD__', env({ 'node-config-input-bearerToken': '__PWRD__' })), true);
    assert.equal(validateCredentials(open, 'bearerToken', ' AAAA ', env({})), true);
    // The dialog's auth type decides which secrets are needed.
    const keys = env({ 'node-config-input-authType': 'keys', 'node-config-input-apiKey': 'k', 'node-config-input-apiSecret': '' });
    assert.equal(validateCredentials(open, 'bearerToken', '', keys), true);
    assert.equal(validateCredentials(open, 'apiSecret', '', keys), 'no API key secret is set');
    assert.equal(validateCredentials(open, 'apiKey', 'k', keys), true);
  });

  it('the node itself (authType) is invalid without its secrets once they are known; not judged before', () => {
    assert.equal(validateCredentials(cred({ credentials: { has_bearerToken: false } }), 'authType', 'bearer', dialog()), 'no bearer token is set');
    assert.equal(validateCredentials(cred({ credentials: { has_bearerToken: true } }), 'authType', 'bearer', dialog()), true);
    assert.equal(validateCredentials(cred({ credentials: { bearerToken: '', has_bearerToken: true } }), 'authType', 'bearer', dialog()), 'no bearer token is set', 'emptied in the dialog');
    assert.equal(validateCredentials(cred({ credentials: { has_apiKey: true, has_apiSecret: true } }), 'authType', 'keys', dialog()), true);
    assert.equal(validateCredentials(cred(), 'authType', 'bearer', dialog()), true, 'secrets not loaded');
    assert.equal(validateCredentials(cred(), 'authType', 'oauth', dialog()), 'unknown authentication "oauth": use a bearer token or an API key + secret');
  });

  it('base URL, timeout and access: the lib\'s rules (xCredentialsProblems), translated', () => {
    for (const [field, value, reason] of [
      ['baseUrl', 'ftp://example', 'the API base URL must be http(s), not ftp:'],
      ['baseUrl', 'example.com', '"example.com" is not a URL'],
      ['baseUrl', 'https://api.x.com/?q=1', 'the API base URL cannot have a query or a fragment'],
      ['baseUrl', 'https://u:p@api.x.com', 'the API base URL cannot carry credentials: put them in the credential fields'],
      ['timeout', '0', 'the request timeout must be a whole number of ms from 1 to 600000, not "0"'],
      ['timeout', '1.5', 'the request timeout must be a whole number of ms from 1 to 600000, not "1.5"'],
      ['access', 'gold', 'Unknown X access level "gold": pay-per-use assumed'],
    ] as const) {
      assert.equal(validateCredentials(cred(), field, value, dialog()), reason, `${field} ${value}`);
      if (field !== 'access') {
        const lib = xCredentialsProblems({ [field]: value }).find((p) => p.field === field)!;
        assert.deepEqual(credentialsProblem(cred(), field, value, dialog()), { key: `errors.${lib.code}`, ...(Object.keys(lib.values).length ? { values: lib.values } : {}) });
      }
    }
    for (const [field, value] of [['baseUrl', ''], ['baseUrl', 'http://127.0.0.1:8080/x/'], ['timeout', ''], ['timeout', '5000'], ['access', 'pro'], ['access', '']]) {
      assert.equal(validateCredentials(cred(), field, value, dialog()), true, `${field} ${value}`);
    }
    assert.equal(validateCredentials(editorNode(CREDENTIALS, { authType: 'bearer' }, 'ko'), 'bearerToken', '', dialog()), 'bearer 토큰이 설정되지 않았습니다');
  });
});

describe('editor/x: palette search terms', () => {
  class Entry implements PaletteElement {
    attrs = new Map<string, string>();
    constructor(type: string, label: string) {
      this.attrs.set('data-palette-type', type);
      this.attrs.set('data-palette-label', label);
    }
    getAttribute(name: string) {
      return this.attrs.get(name) ?? null;
    }
    setAttribute(name: string, value: string) {
      this.attrs.set(name, value);
    }
  }
  const root = (entries: Entry[]) => ({
    querySelectorAll: (selector: string) => {
      const type = /data-palette-type="([^"]+)"/.exec(selector)![1];
      return entries.filter((e) => e.getAttribute('data-palette-type') === type);
    },
  });
  /** Node-RED's palette filter (refreshFilter): the type or data-palette-label, case-insensitive. */
  const found = (e: Entry, text: string) => new RegExp(text.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&'), 'i').test(`${e.getAttribute('data-palette-type')}\n${e.getAttribute('data-palette-label')}`);

  it('the catalogue\'s terms find the X stream as X, twitter, tweet or post; the shown label is untouched; Korean terms in ko', () => {
    const entry = new Entry(STREAM, 'X stream');
    const other = new Entry('streamsafe-kafka-producer', 'Kafka producer');
    const terms = catalogue('en-US', STREAM)('paletteSearch');
    assert.equal(applyPaletteSearch(root([entry, other]), STREAM, terms), true);
    for (const q of ['X', 'x', 'twitter', 'Twitter', 'tweet', 'post', 'stream']) assert.ok(found(entry, q), q);
    assert.ok(!found(other, 'twitter'));
    assert.equal(other.getAttribute('data-palette-label'), 'Kafka producer');
    assert.ok(entry.getAttribute('data-palette-label')!.startsWith('X stream '));
    const ko = catalogue('ko', STREAM)('paletteSearch');
    const koEntry = new Entry(STREAM, 'X stream');
    applyPaletteSearch(root([koEntry]), STREAM, ko);
    for (const q of ['트위터', '트윗', '게시물', 'twitter', 'post']) assert.ok(found(koEntry, q), q);
  });

  it('applied once; again after Node-RED rewrites the label (a re-rendered palette)', () => {
    const entry = new Entry(STREAM, 'X stream');
    applyPaletteSearch(root([entry]), STREAM, 'twitter tweet');
    const once = entry.getAttribute('data-palette-label');
    assert.equal(applyPaletteSearch(root([entry]), STREAM, 'twitter tweet'), false, 'nothing to do: no observer loop');
    assert.equal(entry.getAttribute('data-palette-label'), once);
    entry.setAttribute('data-palette-label', 'X stream'); // setLabel() again
    assert.equal(applyPaletteSearch(root([entry]), STREAM, 'twitter tweet'), true);
    assert.equal(entry.getAttribute('data-palette-label'), 'X stream twitter tweet');
  });
});

describe('editor/x: the rendered reasons are the lib\'s messages', () => {
  it('renderMessage of a lib problem = the validator\'s text', () => {
    const node = editorNode(STREAM, { mode: 'filtered' });
    const lib = xStreamProblems({ mode: 'filtered', queueSize: '0' })[0];
    assert.equal(validateStream(node, 'queueSize', '0', dialog()), renderMessage(lib.message, catalogue('en-US', STREAM)));
  });
});
