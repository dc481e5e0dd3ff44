// What the X stream node shows and says for each event of its source: one pure function, so
// every status and log line is unit-tested without Node-RED. `t` is the node's message catalogue.
import type { XRecoveryMeans } from './access';
import { XRulesError } from './rules-sync';
import { XApiError } from './x-client';
import type { XSourceEvent } from './x-source';

export type Fill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';
export interface NodeStatus {
  fill?: Fill;
  shape?: 'ring' | 'dot';
  text?: string;
}

export type Translate = (key: string, values?: Record<string, string | number>) => string;

export interface EventOutcome {
  status?: NodeStatus;
  log?: string[];
  warn?: string[];
  /** Stopped for good: the error for Catch nodes. */
  error?: Error;
}

/** A status line is cut to this many characters (a long one runs over the flow). */
export const STATUS_MAX_CHARS = 60;

export function clip(text: string, max = STATUS_MAX_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
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
export function shortReason(err: Error, t: Translate): string {
  if (err instanceof XApiError) return err.status === 409 ? t('status.noRules', { title: err.connectionIssue ?? err.title }) : `${err.title} (HTTP ${err.status})`;
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
      return { status: { fill: 'yellow', shape: 'ring', text: t('status.syncing') } };
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
      return { status: { fill: 'yellow', shape: 'ring', text: e.attempt > 1 ? t('status.reconnecting', { attempt: e.attempt }) : t('status.connecting') } };
    case 'connected':
      return { status: { fill: 'green', shape: 'dot', text: t('status.connected') } };
    case 'disconnected':
      return { log: [t('log.disconnected', { reason: e.reason })] };
    case 'retrying': {
      const d = e.decision;
      const out: EventOutcome = {
        status: { fill: d.kind === 'dropped' ? 'yellow' : 'red', shape: 'ring', text: clip(t('status.retrying', { seconds: seconds(d.delayMs), reason: shortReason(e.error, t) })) },
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
        status: e.disconnect ? { fill: 'yellow', shape: 'ring', text: clip(t('status.disconnectNotice', { type: what })) } : undefined,
        warn: [t('warn.notice', { type: what, detail: String(first.detail ?? '') })],
      };
    }
    case 'malformed':
      return { warn: [t('warn.malformed', { count: e.count, reason: e.reason, text: e.text })] };
    case 'dropped':
      return { warn: [t('warn.dropped', { count: e.count, size: ctx.queueSize })] };
    case 'polling':
      return ctx.polls() === 0 ? { status: { fill: 'yellow', shape: 'ring', text: t('status.polling') } } : {};
    case 'polled':
      return { status: { fill: 'green', shape: 'dot', text: t('status.polled', { posts: e.posts, total: ctx.posts() }) } };
    case 'gap':
      return { log: [t('log.gap', { span: span(e.gap.toMs - e.gap.fromMs), means: meansName(e.means, t) })] };
    case 'recovered':
      return { log: [t('log.recovered', { posts: e.posts, means: meansName(e.means, t), requests: e.requests, span: span(e.gap.toMs - e.gap.fromMs) })] };
    case 'gapLost': {
      const r = e.range;
      return {
        status: { fill: 'yellow', shape: 'ring', text: clip(t('status.gapLost', { span: span(r.toMs - r.fromMs) })) },
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
        ? t('status.rulesInvalid', { count: err.problems.length })
        : err instanceof XApiError
          ? t('status.stopped', { title: err.title, status: err.status })
          : t('status.stoppedOther', { reason: err.message });
      return { status: { fill: 'red', shape: 'dot', text: clip(text) }, error: err };
    }
  }
}

function meansName(means: XRecoveryMeans | 'none', t: Translate): string {
  return t(`recovery.${means}`);
}
