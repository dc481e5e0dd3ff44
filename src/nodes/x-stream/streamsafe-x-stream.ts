// X stream node (source): filtered stream with rules synced on deploy, sample stream, or
// recent-search polling; one msg per post (payload, includes, matching_rules, key = author id),
// statistics on a second output. All logic is in lib/x; this is the Node-RED glue.
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { Request, Response } from 'express';
import { scaledClock, type Clock } from '../../lib/common/clock';
import { boundedDelay } from '../../lib/common/timers';
import { msg, renderMessage, statusPublisher, type NodeStatus, type StatusValue } from '../../lib/common/status-message';
import { recoveryOptions } from '../../lib/x/access';
import { parseXStreamSettings } from '../../lib/x/options';
import type { SearchCursor } from '../../lib/x/recent-search';
import { validateRules, XRulesError, type XRule } from '../../lib/x/rules-sync';
import { compactNumber } from '../../lib/x/stats';
import { invalidStatus, outcomeOf, startingStatus, summaryStatus } from '../../lib/x/status';
import { XApiError, type XClient, type XCredentialsProvider } from '../../lib/x/x-client';
import { XSource, type XPostMessage, type XSourceEvent } from '../../lib/x/x-source';

interface XStreamDef extends NodeDef, Record<string, unknown> {
  account: string;
}

const RULES_KEY = 'rules';
const CURSOR_KEY = 'searchCursor';
/** The status line with the rate is refreshed this often. */
const STATUS_EVERY_MS = 1000;
/** A deleted node's rules are deleted within this long, or left (Node-RED waits 15 s for a close). */
const REMOVE_RULES_MAX_MS = 5000;

export = function (RED: NodeAPI) {
  const t = (key: string, subs?: Record<string, string | number>) => RED._(`streamsafe-x-stream.${key}`, subs);
  // X time for tests and demos: settings.streamsafeXTimeScale (with ...XTimeOrigin) plays X's
  // minutes in seconds, as the X emulator does when given the same figures.
  const redSettings = RED.settings as unknown as { streamsafeXTimeScale?: unknown; streamsafeXTimeOrigin?: unknown };
  const timeScale = Number(redSettings.streamsafeXTimeScale);
  const xClock: Clock | undefined = timeScale > 0 && timeScale !== 1 ? scaledClock(timeScale, Number(redSettings.streamsafeXTimeOrigin) || Date.now()) : undefined;

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
    // node.status(), and the status as a message for the editor to show in its own language.
    const setStatus = statusPublisher(node, RED.comms.publish);

    /** Does not start: the short reason in the status (a message, shown in the editor's language), the whole one to the log and Catch. */
    const refuse = (reason: StatusValue, full: string) => {
      setStatus(invalidStatus(reason, t));
      node.error(full, { payload: { error: full } });
    };

    const account = RED.nodes.getNode(config.account) as (Node & XCredentialsProvider) | null;
    if (!account) return refuse(msg('errors.noAccount'), t('errors.noAccount'));
    if (account.settingsError) {
      const p = account.settingsProblem;
      return refuse(p ? msg(`account.${p.code}`, p.values) : account.settingsError, t('errors.account', { reason: account.settingsError }));
    }

    // ---- settings (checked in lib/x/options, against the account's access level) ----
    const accessLevel = account.accessLevel;
    const parsed = parseXStreamSettings(config, accessLevel);
    if ('problems' in parsed) {
      const first = parsed.problems[0].message;
      return refuse(first, parsed.problems.map((p) => renderMessage(p.message, t)).join(' | '));
    }
    const settings = parsed.settings;
    const { mode, numbers: num } = settings;
    if (settings.unknownFields.length) node.warn(t('warn.unknownFields', { fields: settings.unknownFields.join(', ') }));

    let client: XClient;
    try {
      client = account.createClient();
    } catch (e) {
      const reason = t('errors.account', { reason: (e as Error).message });
      return refuse(reason, reason);
    }

    // ---- status -----------------------------------------------------------
    const show = (s: NodeStatus) => {
      if (!closed) setStatus(s);
    };
    let lastShown = '';
    const statusTimer = setInterval(() => {
      if (closed || source.state !== 'connected') return;
      const status = summaryStatus(source.snapshot(), t);
      if (status.text === lastShown) return;
      lastShown = status.text ?? '';
      setStatus(status);
    }, boundedDelay(STATUS_EVERY_MS));
    statusTimer.unref?.();

    const errorMsg = (err: Error): NodeMessage => {
      const payload: Record<string, unknown> = { name: err.name, message: err.message };
      if (err instanceof XApiError) Object.assign(payload, { status: err.status, title: err.title, detail: err.detail, problem: err.body });
      if (err instanceof XRulesError) payload.rules = err.problems;
      return { topic: 'error', payload } as NodeMessage;
    };

    const statusContext = {
      posts: () => compactNumber(source.snapshot().posts),
      polls: () => source.snapshot().polls,
      queueSize: num.queueSize,
    };
    const onEvent = (e: XSourceEvent) => {
      if (closed) return;
      const out = outcomeOf(e, t, statusContext);
      if (e.type === 'connected') lastShown = '';
      if (out.status) show(out.status);
      for (const line of out.log ?? []) node.log(line);
      for (const line of out.warn ?? []) node.warn(line);
      if (out.error) node.error(out.error, errorMsg(out.error));
    };

    // ---- source -----------------------------------------------------------
    const source = new XSource({
      mode,
      client,
      params: settings.params,
      rules: config.rules,
      ownedRules: {
        get: () => recall<XRule[]>(node, RULES_KEY),
        set: (rules) => remember(node, RULES_KEY, rules),
      },
      query: settings.query,
      pollIntervalMs: num.pollInterval * 1000,
      maxPages: num.maxPages,
      maxResults: num.maxResults,
      lookbackMinutes: num.lookbackMinutes,
      cursorStore: {
        // The cursor belongs to one query: a new query starts afresh.
        get: async () => {
          const saved = await recall<{ query: string; cursor: SearchCursor }>(node, CURSOR_KEY);
          return saved && saved.query === settings.query ? saved.cursor : undefined;
        },
        set: (cursor) => remember(node, CURSOR_KEY, { query: settings.query, cursor }),
      },
      backfillMinutes: num.backfillMinutes,
      stallTimeoutMs: num.stallTimeoutMs,
      connectTimeoutMs: num.connectTimeoutMs,
      reconnect: settings.reconnect,
      recovery: settings.recovery,
      recoveryMeans: recoveryOptions(accessLevel),
      dedupWindow: num.dedupWindow,
      queueSize: num.queueSize,
      overflow: settings.overflow,
      clock: xClock,
      // One send() per post: Node-RED deep-clones every msg after the first of a single send() call.
      deliver: (msgs: XPostMessage[]) => {
        for (const m of msgs) node.send([m as unknown as NodeMessage, null]);
      },
      event: onEvent,
    });

    const statsTimer = num.statsInterval > 0
      ? setInterval(() => node.send([null, { topic: 'stats', payload: source.snapshot() }] as never), boundedDelay(num.statsInterval * 1000))
      : undefined;
    statsTimer?.unref?.();

    show(startingStatus(t));
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
          setStatus({});
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
