// The error bodies X API v2 sends (RFC 7807 "problem" objects and the `errors` arrays).
import { STATUS_CODES } from 'node:http';

export type Problem = Record<string, unknown>;

export const PROBLEM_TYPES = {
  invalidRequest: 'https://api.twitter.com/2/problems/invalid-request',
  invalidRules: 'https://api.twitter.com/2/problems/invalid-rules',
  duplicateRules: 'https://api.twitter.com/2/problems/duplicate-rules',
  ruleCap: 'https://api.twitter.com/2/problems/rule-cap',
  streamingConnection: 'https://api.twitter.com/2/problems/streaming-connection',
  operationalDisconnect: 'https://api.twitter.com/2/problems/operational-disconnect',
  clientForbidden: 'https://api.twitter.com/2/problems/client-forbidden',
  usageCapped: 'https://api.twitter.com/2/problems/usage-capped',
} as const;

/** `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}` and kin. */
export function genericProblem(status: number): Problem {
  const title = STATUS_CODES[status] ?? 'Error';
  return { title, type: 'about:blank', status, detail: title };
}

export const unauthorized = (): Problem => genericProblem(401);

/** 429 on a connect while the app already holds its allowed stream connections. */
export const tooManyConnections = (): Problem => ({
  title: 'ConnectionException',
  detail: 'This stream is currently at the maximum allowed connection limit.',
  connection_issue: 'TooManyConnections',
  type: PROBLEM_TYPES.streamingConnection,
});

/** 409 when the filtered stream is opened while the app has no rules. */
export const noRules = (): Problem => ({
  title: 'ConnectionException',
  detail: 'You must define rules using the POST /2/tweets/search/stream/rules endpoint before connecting to filtered stream.',
  connection_issue: 'RuleConfigurationIssue',
  type: PROBLEM_TYPES.streamingConnection,
});

/** 403 for an app outside a Project / without the access level the endpoint needs. */
export const clientNotEnrolled = (clientId = '10000001'): Problem => ({
  client_id: clientId,
  detail:
    'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
  registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
  title: 'Client Forbidden',
  required_enrollment: 'Appropriate Level of API Access',
  reason: 'client-not-enrolled',
  type: PROBLEM_TYPES.clientForbidden,
});

/** The in-stream error X writes before closing a stream for its own reasons. */
export const operationalDisconnect = (): { errors: Problem[] } => ({
  errors: [
    {
      title: 'operational-disconnect',
      disconnect_type: 'OperationalDisconnect',
      detail: 'This stream has been disconnected for operational reasons.',
      type: PROBLEM_TYPES.operationalDisconnect,
    },
  ],
});

/** Emulator-specific: the in-stream error before dropping a client that fell too far behind. */
export const slowClientDisconnect = (lagPosts: number): { errors: Problem[] } => ({
  errors: [
    {
      title: 'operational-disconnect',
      disconnect_type: 'OperationalDisconnect',
      detail: `This stream has been disconnected because your client was unable to keep up with us (${lagPosts} posts behind).`,
      type: PROBLEM_TYPES.operationalDisconnect,
    },
  ],
});

/** 400 for bad query parameters or bodies: one entry per problem in `errors`. */
export function invalidRequest(errors: Array<{ message: string; parameters?: Record<string, string[]> }>): Problem {
  return {
    errors: errors.map((e) => ({ parameters: e.parameters ?? {}, message: e.message })),
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: PROBLEM_TYPES.invalidRequest,
  };
}

export const invalidRule = (value: unknown, details: string[]): Problem => ({
  value,
  details,
  title: 'UnprocessableEntity',
  type: PROBLEM_TYPES.invalidRules,
});

export const duplicateRule = (value: string, id: string): Problem => ({
  value,
  id,
  title: 'DuplicateRule',
  type: PROBLEM_TYPES.duplicateRules,
});

export const ruleCap = (max: number): Problem => ({
  title: 'RulesCapExceeded',
  detail: `Rule creation would exceed the maximum of ${max} rules for this app.`,
  type: PROBLEM_TYPES.ruleCap,
});

/**
 * 429 when the app's usage cap (monthly or daily Post/request allowance) is used up: not a
 * 15-minute rate limit, x-rate-limit-remaining is still > 0. Shape as X sends it (spec:
 * UsageCapExceededProblem with `period` Daily|Monthly and `scope` Account|Product; title and
 * detail as reported by clients that met it: "Usage cap exceeded: Monthly product cap").
 */
export const usageCapped = (period: 'Daily' | 'Monthly' = 'Monthly', scope: 'Account' | 'Product' = 'Product', extra: Record<string, unknown> = {}): Problem => ({
  ...extra,
  title: 'UsageCapExceeded',
  detail: `Usage cap exceeded: ${period} ${scope.toLowerCase()} cap`,
  type: PROBLEM_TYPES.usageCapped,
  period,
  scope,
});

export const ruleNotFound = (id: string): Problem => ({
  value: id,
  details: ['Rule does not exist'],
  title: 'Invalid Request',
  type: PROBLEM_TYPES.invalidRequest,
});

/** POST /oauth2/token with wrong or missing consumer credentials (a v1.1-style body). */
export const badCredentials = (): { errors: Array<Record<string, unknown>> } => ({
  errors: [{ code: 99, label: 'authenticity_token_error', message: 'Unable to verify your credentials' }],
});

export const notFound = (): Problem => ({
  title: 'Not Found Error',
  detail: 'Sorry, that page does not exist.',
  type: 'about:blank',
  status: 404,
});

/** The default body for an injected status fault. */
export function problemForStatus(status: number): unknown {
  if (status === 403) return clientNotEnrolled();
  if (status === 409) return noRules();
  return genericProblem(status);
}
