// X stream node (source): filtered stream with rules synced on deploy, sample stream, or
// recent-search polling; one msg per post (payload, includes, matching_rules, key = author id),
// statistics on a second output. All logic is in lib/x; this is the Node-RED glue.
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { Request, Response } from 'express';
import { DEFAULT_EXPANSIONS, DEFAULT_TWEET_FIELDS, DEFAULT_USER_FIELDS, fieldList, fieldParams, unknownFields } from '../../lib/x/fields';
import type { SearchCursor } from '../../lib/x/recent-search';
import { X_RECONNECT_DEFAULTS, type ReconnectSettings } from '../../lib/x/reconnect-policy';
import { validateRules, XRulesError, type XRule } from '../../lib/x/rules-sync';
import { compactNumber } from '../../lib/x/stats';
import { XApiError, type XClient, type XCredentialsProvider } from '../../lib/x/x-client';
import { XSource, type XPostMessage, type XSourceEvent, type XSourceMode } from '../../lib/x/x-source';

interface XStreamDef extends NodeDef, Record<string, unknown> {
  account: string;
  mode: XSourceMode;
  rules: unknown;
  query: string;
}

type Fill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';
type Status = { fill?: Fill; shape?: 'ring' | 'dot'; text?: string };

const MODES: XSourceMode[] = ['filtered', 'sample', 'search'];
const RULES_KEY = 'rules';
const CURSOR_KEY = 'searchCursor';
/** The status line with the rate is refreshed this often. */
const STATUS_EVERY_MS = 1000;
/** A deleted node's rules are deleted within this long, or left (Node-RED waits 15 s for a close). */
const REMOVE_RULES_MAX_MS = 5000;

/** A whole number ≥ min from a config field, or the fallback when blank; NaN when not a number. */
function whole(value: unknown, fallback: number, min = 0): number {
  if (value === '' || value === undefined || value === null) return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n >= min ? Math.round(n) : NaN;
}

function seconds(ms: number): string {
  return ms < 10_000 ? (Math.round(ms / 100) / 10).toString() : Math.round(ms / 1000).toString();
}

export = function (RED: NodeAPI) {
  const t = (key: string, subs?: Record<string, string | number>) => RED._(`streamsafe-x-stream.${key}`, subs);

  function contextGet<T>(node: Node, key: string): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      node.context().get(key, (err: Error | undefined, value: unknown) => (err ? reject(err) : resolve(value as T | undefined)));
    });
  }
  function contextSet(node: Node, key: string, value: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      node.context().set(key, value, (err?: Error) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * What a node must remember (the rules it created, the search cursor): in memory by node id,
   * which survives redeploys (Node-RED clears a node's memory context whenever the node is
   * redeployed), and in the node's context, which survives restarts when a persistent context
   * store is configured.
   */
  const remembered = new Map<string, Record<string, unknown>>();
  async function recall<T>(node: Node, key: string): Promise<T | undefined> {
    const kept = remembered.get(node.id);
    if (kept && key in kept) return kept[key] as T;
    try {
      return await contextGet<T>(node, key);
    } catch {
      return undefined;
    }
  }
  async function remember(node: Node, key: string, value: unknown): Promise<void> {
    const kept = remembered.get(node.id) ?? {};
    kept[key] = value;
    remembered.set(node.id, kept);
    try {
      await contextSet(node, key, value);
    } catch (e) {
      node.warn(t('warn.context', { reason: (e as Error).message }));
    }
  }

  function XStreamNode(this: Node, config: XStreamDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let closed = false;

    const refuse = (reason: string) => {
      node.status({ fill: 'red', shape: 'dot', text: t('status.invalid') });
      node.error(reason, { payload: { error: reason } });
    };

    const mode = (MODES.includes(config.mode) ? config.mode : 'filtered') as XSourceMode;
    const account = RED.nodes.getNode(config.account) as (Node & XCredentialsProvider) | null;
    if (!account) return refuse(t('errors.noAccount'));
    if (account.settingsError) return refuse(t('errors.account', { reason: account.settingsError }));

    // ---- settings ---------------------------------------------------------
    // [config field, default, minimum]
    const NUMBERS = {
      pollInterval: [60, 1],
      maxPages: [10, 1],
      maxResults: [100, 10],
      lookbackMinutes: [0, 0],
      backfillMinutes: [0, 0],
      dedupWindow: [10_000, 0],
      queueSize: [10_000, 1],
      statsInterval: [0, 0],
      stallTimeoutMs: [21_000, 1],
      connectTimeoutMs: [10_000, 1],
    } as const;
    const num = {} as Record<keyof typeof NUMBERS, number>;
    for (const [field, [fallback, min]] of Object.entries(NUMBERS) as Array<[keyof typeof NUMBERS, readonly [number, number]]>) {
      num[field] = whole(config[field], fallback, min);
      if (Number.isNaN(num[field])) return refuse(t('errors.number', { field: t(`label.${field}`), value: String(config[field]) }));
    }
    if (num.backfillMinutes > 5) return refuse(t('errors.backfill', { value: num.backfillMinutes }));
    if (num.maxResults > 100) return refuse(t('errors.maxResults', { value: num.maxResults }));
    const reconnect: Partial<ReconnectSettings> = {};
    for (const k of Object.keys(X_RECONNECT_DEFAULTS) as Array<keyof ReconnectSettings>) {
      const v = whole(config[k], X_RECONNECT_DEFAULTS[k]);
      if (Number.isNaN(v)) return refuse(t('errors.number', { field: k, value: String(config[k]) }));
      reconnect[k] = v;
    }
    const fields = {
      tweetFields: fieldList(config.tweetFields ?? DEFAULT_TWEET_FIELDS),
      userFields: fieldList(config.userFields ?? DEFAULT_USER_FIELDS),
      expansions: fieldList(config.expansions ?? DEFAULT_EXPANSIONS),
    };
    const unknown = unknownFields(fields);
    if (unknown.length) node.warn(t('warn.unknownFields', { fields: unknown.join(', ') }));
    const query = typeof config.query === 'string' ? config.query.trim() : '';
    if (mode === 'search' && !query) return refuse(t('errors.noQuery'));

    let client: XClient;
    try {
      client = account.createClient();
    } catch (e) {
      return refuse(t('errors.account', { reason: (e as Error).message }));
    }

    // ---- status -----------------------------------------------------------
    let base: Status = { fill: 'grey', shape: 'ring', text: t('status.starting') };
    const show = (s: Status) => {
      base = s;
      if (!closed) node.status(s);
    };
    const summary = () => {
      const s = source.snapshot();
      let text = t('status.rate', { rate: compactNumber(s.postsPerSecond), posts: compactNumber(s.posts) });
      if (s.drops) text += ` · ${t('status.drops', { drops: compactNumber(s.drops) })}`;
      if (s.duplicates) text += ` · ${t('status.duplicates', { duplicates: compactNumber(s.duplicates) })}`;
      return text;
    };
    let lastShown = '';
    const statusTimer = setInterval(() => {
      if (closed || source.state !== 'connected') return;
      const text = summary();
      if (text === lastShown) return;
      lastShown = text;
      node.status({ fill: 'green', shape: 'dot', text });
    }, STATUS_EVERY_MS);
    statusTimer.unref?.();

    const errorMsg = (err: Error): NodeMessage => {
      const payload: Record<string, unknown> = { name: err.name, message: err.message };
      if (err instanceof XApiError) Object.assign(payload, { status: err.status, title: err.title, detail: err.detail, problem: err.body });
      if (err instanceof XRulesError) payload.rules = err.problems;
      return { topic: 'error', payload } as NodeMessage;
    };

    const onEvent = (e: XSourceEvent) => {
      if (closed) return;
      switch (e.type) {
        case 'syncing':
          show({ fill: 'yellow', shape: 'ring', text: t('status.syncing') });
          break;
        case 'synced': {
          const r = e.result;
          node.log(t('log.synced', { added: r.added.length, removed: r.removed.length, kept: r.kept.length, foreign: r.foreign.length }));
          for (const f of r.foreign) node.warn(t('warn.foreignRule', { value: f.wanted.value, id: f.existing.id, tag: f.existing.tag ?? '' }));
          for (const d of r.duplicates) node.warn(t('warn.duplicateRule', { value: d.value, reason: d.messages.join('; ') }));
          break;
        }
        case 'connecting':
          show({ fill: 'yellow', shape: 'ring', text: e.attempt > 1 ? t('status.reconnecting', { attempt: e.attempt }) : t('status.connecting') });
          break;
        case 'connected':
          lastShown = '';
          show({ fill: 'green', shape: 'dot', text: t('status.connected') });
          break;
        case 'disconnected':
          node.log(t('log.disconnected', { reason: e.reason }));
          break;
        case 'retrying': {
          const err = e.error;
          const reason = err instanceof XApiError
            ? err.status === 409
              ? t('status.noRules', { title: err.connectionIssue ?? err.title })
              : `${err.title} (HTTP ${err.status})`
            : err.message;
          show({ fill: e.decision.kind === 'dropped' ? 'yellow' : 'red', shape: 'ring', text: t('status.retrying', { seconds: seconds(e.decision.delayMs), reason }).slice(0, 120) });
          if (e.decision.kind !== 'dropped' && (e.decision.attempt & (e.decision.attempt - 1)) === 0) {
            node.warn(t('warn.retrying', { reason: err.message, seconds: seconds(e.decision.delayMs), attempt: e.decision.attempt }));
          }
          break;
        }
        case 'notice': {
          const first = e.errors[0] ?? {};
          const what = String(first.disconnect_type ?? first.title ?? 'error');
          if (e.disconnect) show({ fill: 'yellow', shape: 'ring', text: t('status.disconnectNotice', { type: what }) });
          node.warn(t('warn.notice', { type: what, detail: String(first.detail ?? '') }));
          break;
        }
        case 'malformed':
          node.warn(t('warn.malformed', { count: e.count, reason: e.reason, text: e.text }));
          break;
        case 'dropped':
          node.warn(t('warn.dropped', { count: e.count, size: num.queueSize }));
          break;
        case 'polling':
          if (source.snapshot().polls === 0) show({ fill: 'yellow', shape: 'ring', text: t('status.polling') });
          break;
        case 'polled':
          show({ fill: 'green', shape: 'dot', text: t('status.polled', { posts: e.posts, total: compactNumber(source.snapshot().posts) }) });
          break;
        case 'stopped': {
          const err = e.error;
          const text = err instanceof XRulesError
            ? t('status.rulesInvalid', { count: err.problems.length })
            : err instanceof XApiError
              ? t('status.stopped', { title: err.title, status: err.status })
              : t('status.stoppedOther', { reason: err.message });
          show({ fill: 'red', shape: 'dot', text: text.slice(0, 120) });
          node.error(err, errorMsg(err));
          break;
        }
      }
    };

    // ---- source -----------------------------------------------------------
    const source = new XSource({
      mode,
      client,
      params: fieldParams(fields),
      rules: config.rules,
      ownedRules: {
        get: () => recall<XRule[]>(node, RULES_KEY),
        set: (rules) => remember(node, RULES_KEY, rules),
      },
      query,
      pollIntervalMs: num.pollInterval * 1000,
      maxPages: num.maxPages,
      maxResults: num.maxResults,
      lookbackMinutes: num.lookbackMinutes,
      cursorStore: {
        // The cursor belongs to one query: a new query starts afresh.
        get: async () => {
          const saved = await recall<{ query: string; cursor: SearchCursor }>(node, CURSOR_KEY);
          return saved && saved.query === query ? saved.cursor : undefined;
        },
        set: (cursor) => remember(node, CURSOR_KEY, { query, cursor }),
      },
      backfillMinutes: num.backfillMinutes,
      stallTimeoutMs: num.stallTimeoutMs,
      connectTimeoutMs: num.connectTimeoutMs,
      reconnect,
      dedupWindow: num.dedupWindow,
      queueSize: num.queueSize,
      overflow: config.overflow === 'pause' ? 'pause' : 'drop',
      // One send() per post: Node-RED deep-clones every msg after the first of a single send() call.
      deliver: (msgs: XPostMessage[]) => {
        for (const m of msgs) node.send([m as unknown as NodeMessage, null]);
      },
      event: onEvent,
    });

    const statsTimer = num.statsInterval > 0
      ? setInterval(() => node.send([null, { topic: 'stats', payload: source.snapshot() }] as never), num.statsInterval * 1000)
      : undefined;
    statsTimer?.unref?.();

    show(base);
    source.start();

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      if (statsTimer) clearInterval(statsTimer);
      source
        .close()
        .then(async (discarded) => {
          if (discarded) node.log(t('log.discarded', { count: discarded }));
          if (!removed) return;
          // A deleted node lists no rules: the ones it created go too (best effort, bounded).
          if (mode === 'filtered') {
            const deleted = await source.deleteOwnRules(REMOVE_RULES_MAX_MS);
            if (deleted.error) node.warn(t('warn.rulesNotDeleted', { reason: deleted.error.message }));
            else if (deleted.count) node.log(t('log.rulesDeleted', { count: deleted.count }));
          }
          remembered.delete(node.id);
        })
        .catch((e) => node.warn(String(e)))
        .finally(() => {
          closed = true;
          client.close();
          node.status({});
          done();
        });
    });
  }

  RED.nodes.registerType('streamsafe-x-stream', XStreamNode as never);

  // The editor's "validate" button: the rules as dry_run=true, X's verdict per rule.
  RED.httpAdmin.post('/streamsafe-x-stream/:id/validate', RED.auth.needsPermission('streamsafe-x-stream.write'), (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { account?: unknown; rules?: unknown };
    const account = typeof body.account === 'string' ? (RED.nodes.getNode(body.account) as (Node & XCredentialsProvider) | null) : null;
    if (!account || typeof account.createClient !== 'function') {
      res.status(400).json({ error: t('validate.deployAccount') });
      return;
    }
    let client: XClient;
    try {
      client = account.createClient();
    } catch (e) {
      res.status(400).json({ error: t('errors.account', { reason: (e as Error).message }) });
      return;
    }
    const deployed = RED.nodes.getNode(String(req.params.id)) as Node | null;
    const owned = deployed ? recall<XRule[]>(deployed, RULES_KEY) : Promise.resolve(remembered.get(String(req.params.id))?.[RULES_KEY] as XRule[] | undefined);
    owned
      .then((o) => validateRules(client, body.rules, o ?? []))
      .then(
        (results) => res.json({ results }),
        (err: Error) => {
          const status = err instanceof XApiError ? err.status : undefined;
          res.status(502).json({ error: err.message, ...(status ? { status, title: (err as XApiError).title } : {}) });
        },
      )
      .finally(() => client.close());
  });
};
