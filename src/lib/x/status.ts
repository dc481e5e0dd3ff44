// What the X stream node shows and says for each event of its source: one pure function, so
// every status and log line is unit-tested without Node-RED. `t` is the node's message catalogue.
// Statuses are messages (common/status-message.ts): the runtime renders them with `t`, the editor
// again in its own language.
import { localStatus, msg, type NodeStatus, type StatusMessage, type StatusValue } from '../common/status-message';
import type { XRecoveryMeans } from './access';
import { XRulesError } from './rules-sync';
import { compactNumber, type XStatsSnapshot } from './stats';
import { XApiError } from './x-client';
import type { XSourceEvent } from './x-source';

export type Translate = (key: string, values?: Record<string, string | number>) => string;

export interface EventOutcome {
  status?: NodeStatus;
  log?: string[];
  warn?: string[];
  /** Stopped for good: the error for Catch nodes. */
  error?: Error;
}

/** Seconds for a status: one decimal under 10 s. */
export function seconds(ms: number): string {
  return ms < 10_000 ? (Math.round(ms / 100) / 10).toString() : Math.round(ms / 1000).toString();
}

/** A span of time for a warning: "42 s", "10 min 5 s", "3 h 2 min". */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}

/** The short reason of a failure, for a status line: X's title and status, never a body. */
export function shortReason(err: Error): StatusValue {
  if (err instanceof XApiError) return err.status === 409 ? msg('status.noRules', { title: err.connectionIssue ?? err.title }) : `${err.title} (HTTP ${err.status})`;
  return err.message;
}

export interface StatusContext {
  /** Posts handed to the flow so far (the polled status shows it). */
  posts(): string;
  /** Search polls done before this one. */
  polls(): number;
  queueSize: number;
}

export function outcomeOf(e: XSourceEvent, t: Translate, ctx: StatusContext): EventOutcome {
  switch (e.type) {
    case 'syncing':
      return { status: localStatus('yellow', 'ring', msg('status.syncing'), t) };
    case 'synced': {
      const r = e.result;
      return {
        log: [t('log.synced', { added: r.added.length, removed: r.removed.length, kept: r.kept.length, foreign: r.foreign.length })],
        warn: [
          ...r.foreign.map((f) => t('warn.foreignRule', { value: f.wanted.value, id: f.existing.id, tag: f.existing.tag ?? '' })),
          ...r.duplicates.map((d) => t('warn.duplicateRule', { value: d.value, reason: d.messages.join('; ') })),
        ],
      };
    }
    case 'connecting':
      return { status: localStatus('yellow', 'ring', e.attempt > 1 ? msg('status.reconnecting', { attempt: e.attempt }) : msg('status.connecting'), t) };
    case 'connected':
      return { status: localStatus('green', 'dot', msg('status.connected'), t) };
    case 'disconnected':
      return { log: [t('log.disconnected', { reason: e.reason })] };
    case 'retrying': {
      const d = e.decision;
      const out: EventOutcome = {
        status: localStatus(d.kind === 'dropped' ? 'yellow' : 'red', 'ring', msg('status.retrying', { seconds: seconds(d.delayMs), reason: shortReason(e.error) }), t),
      };
      // Warn on attempts 1, 2, 4, 8, ...: a long outage does not flood the log.
      if (d.kind !== 'dropped' && (d.attempt & (d.attempt - 1)) === 0) {
        out.warn = [t('warn.retrying', { reason: e.error.message, seconds: seconds(d.delayMs), attempt: d.attempt })];
      }
      return out;
    }
    case 'notice': {
      const first = e.errors[0] ?? {};
      const what = String(first.disconnect_type ?? first.title ?? 'error');
      return {
        status: e.disconnect ? localStatus('yellow', 'ring', msg('status.disconnectNotice', { type: what }), t) : undefined,
        warn: [t('warn.notice', { type: what, detail: String(first.detail ?? '') })],
      };
    }
    case 'malformed':
      return { warn: [t('warn.malformed', { count: e.count, reason: e.reason, text: e.text })] };
    case 'dropped':
      return { warn: [t('warn.dropped', { count: e.count, size: ctx.queueSize })] };
    case 'polling':
      return ctx.polls() === 0 ? { status: localStatus('yellow', 'ring', msg('status.polling'), t) } : {};
    case 'polled':
      return { status: localStatus('green', 'dot', msg('status.polled', { posts: e.posts, total: ctx.posts() }), t) };
    case 'gap':
      return { log: [t('log.gap', { span: span(e.gap.toMs - e.gap.fromMs), means: meansName(e.means, t) })] };
    case 'recovered':
      return { log: [t('log.recovered', { posts: e.posts, means: meansName(e.means, t), requests: e.requests, span: span(e.gap.toMs - e.gap.fromMs) })] };
    case 'gapLost': {
      const r = e.range;
      return {
        status: localStatus('yellow', 'ring', msg('status.gapLost', { span: span(r.toMs - r.fromMs) }), t),
        warn: [
          t('warn.gapLost', {
            span: span(r.toMs - r.fromMs),
            from: new Date(r.fromMs).toISOString(),
            to: new Date(r.toMs).toISOString(),
            rule: r.rule ? `(rule "${r.rule}")` : '',
            reason: r.reason,
          }),
        ],
      };
    }
    case 'stopped': {
      const err = e.error;
      const text = err instanceof XRulesError
        ? msg('status.rulesInvalid', { count: err.problems.length })
        : err instanceof XApiError
          ? msg('status.stopped', { title: err.title, status: err.status })
          : msg('status.stoppedOther', { reason: err.message });
      return { status: localStatus('red', 'dot', text, t), error: err };
    }
  }
}

function meansName(means: XRecoveryMeans | 'none', t: Translate): string {
  return t(`recovery.${means}`);
}

/** The green summary while connected: rate and posts, drops and repeats when there are any. */
export function summaryStatus(s: Pick<XStatsSnapshot, 'postsPerSecond' | 'posts' | 'drops' | 'duplicates'>, t: Translate): NodeStatus {
  const parts: StatusMessage[] = [msg('status.rate', { rate: compactNumber(s.postsPerSecond), posts: compactNumber(s.posts) })];
  if (s.drops) parts.push(msg('status.drops', { drops: compactNumber(s.drops) }));
  if (s.duplicates) parts.push(msg('status.duplicates', { duplicates: compactNumber(s.duplicates) }));
  return localStatus('green', 'dot', parts, t);
}

/** Before the source starts. */
export function startingStatus(t: Translate): NodeStatus {
  return localStatus('grey', 'ring', msg('status.starting'), t);
}

/** A node that does not start: red, with the short reason (a message of the node's catalogue, or text). */
export function invalidStatus(reason: StatusValue, t: Translate): NodeStatus {
  return localStatus('red', 'dot', msg('status.invalid', { reason }), t);
}
