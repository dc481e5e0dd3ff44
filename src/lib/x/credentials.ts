// The X credentials node's settings: the API base URL, how the app authenticates (a bearer token,
// or an API key + secret exchanged for one), the request timeout and the access level. Checked
// here once, for the runtime (streamsafe-x-credentials) and the editor alike: this file is
// browser-safe (bundled by scripts/editor-bundle.js through src/lib/editor/x.ts). A problem has a
// code; its message is errors.<code> of the credentials node's catalogue, and account.<code> of
// the X stream node's (the short reason its status shows when its account is unusable).
import { msg, type StatusMessage } from '../common/status-message';
import { ACCESS_LEVELS, DEFAULT_ACCESS_LEVEL } from './access';

export const DEFAULT_BASE_URL = 'https://api.x.com';
export const X_AUTH_TYPES = ['bearer', 'keys'] as const;
export type XAuthType = (typeof X_AUTH_TYPES)[number];
/** [default, minimum, maximum] of the request timeout, ms. */
export const X_REQUEST_TIMEOUT_MS = [15_000, 1, 600_000] as const;

/** The secrets, as the runtime has them, or as the editor does (a stored one is '__PWRD__' in the dialog, has_<name> on the node). */
export interface XSecrets {
  bearerToken?: unknown;
  apiKey?: unknown;
  apiSecret?: unknown;
  has_bearerToken?: unknown;
  has_apiKey?: unknown;
  has_apiSecret?: unknown;
}

export type XCredentialsField = 'baseUrl' | 'authType' | 'timeout' | 'bearerToken' | 'apiKey' | 'apiSecret';
export type XCredentialsCode = 'notUrl' | 'notHttp' | 'urlQuery' | 'urlUserInfo' | 'authType' | 'timeout' | 'noToken' | 'noKey' | 'noSecret';

export interface XCredentialsProblem {
  field: XCredentialsField;
  code: XCredentialsCode;
  values: Record<string, string | number>;
}

/** The credentials node's catalogue message of a problem (errors.<code>). */
export function credentialsMessage(p: XCredentialsProblem): StatusMessage {
  return msg(`errors.${p.code}`, p.values);
}

function blank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/** Why `value` cannot be the API base URL; undefined when it can (blank: the default). */
export function baseUrlProblem(value: unknown): XCredentialsProblem | undefined {
  if (blank(value)) return undefined;
  const raw = String(value).trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { field: 'baseUrl', code: 'notUrl', values: { value: raw } };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { field: 'baseUrl', code: 'notHttp', values: { protocol: url.protocol } };
  if (url.search || url.hash) return { field: 'baseUrl', code: 'urlQuery', values: {} };
  if (url.username || url.password) return { field: 'baseUrl', code: 'urlUserInfo', values: {} };
  return undefined;
}

/** The base URL without trailing slashes (blank: DEFAULT_BASE_URL); throws a TypeError saying what is wrong with anything else. */
export function normaliseBaseUrl(value: unknown): string {
  if (blank(value)) return DEFAULT_BASE_URL;
  const p = baseUrlProblem(value);
  if (p) {
    const why: Record<string, string> = {
      notUrl: `"${p.values.value}" is not a URL`,
      notHttp: `the API base URL must be http(s), not ${p.values.protocol}`,
      urlQuery: 'the API base URL cannot have a query or a fragment',
      urlUserInfo: 'the API base URL cannot carry credentials; put them in the credential fields',
    };
    throw new TypeError(why[p.code]);
  }
  const url = new URL(String(value).trim());
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The authentication of a config: blank (an old flow) is a bearer token; undefined for an unknown one. */
export function authTypeOf(value: unknown): XAuthType | undefined {
  if (blank(value)) return 'bearer';
  return (X_AUTH_TYPES as readonly unknown[]).includes(value) ? (value as XAuthType) : undefined;
}

/** The request timeout in ms (blank: the default), NaN when it is not a whole number in range. */
export function requestTimeoutMs(value: unknown): number {
  const [fallback, min, max] = X_REQUEST_TIMEOUT_MS;
  if (blank(value)) return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : NaN;
}

/** A secret is set when it has a value ('__PWRD__' in the dialog for a stored one), or is stored (has_<name>) and not emptied. */
function secretSet(secrets: XSecrets, name: 'bearerToken' | 'apiKey' | 'apiSecret'): boolean {
  const value = secrets[name];
  if (typeof value === 'string' && value.trim() !== '') return true;
  return secrets[`has_${name}`] === true && (value === undefined || value === null);
}

/**
 * Every problem of the settings, field by field. `secrets` undefined: not known (the editor
 * before the node's secrets are loaded), not checked; the runtime always has them ({} for none).
 */
export function xCredentialsProblems(config: { baseUrl?: unknown; authType?: unknown; timeout?: unknown }, secrets?: XSecrets): XCredentialsProblem[] {
  const out: XCredentialsProblem[] = [];
  const url = baseUrlProblem(config.baseUrl);
  if (url) out.push(url);
  const auth = authTypeOf(config.authType);
  if (!auth) out.push({ field: 'authType', code: 'authType', values: { value: String(config.authType) } });
  if (Number.isNaN(requestTimeoutMs(config.timeout))) {
    const [, min, max] = X_REQUEST_TIMEOUT_MS;
    out.push({ field: 'timeout', code: 'timeout', values: { value: String(config.timeout), min, max } });
  }
  if (secrets && auth === 'bearer' && !secretSet(secrets, 'bearerToken')) out.push({ field: 'bearerToken', code: 'noToken', values: {} });
  if (secrets && auth === 'keys') {
    if (!secretSet(secrets, 'apiKey')) out.push({ field: 'apiKey', code: 'noKey', values: {} });
    if (!secretSet(secrets, 'apiSecret')) out.push({ field: 'apiSecret', code: 'noSecret', values: {} });
  }
  return out;
}

/** An access level this package does not know (the runtime warns and assumes DEFAULT_ACCESS_LEVEL); undefined for a known or blank one. */
export function unknownAccessLevel(value: unknown): StatusMessage | undefined {
  if (blank(value) || (ACCESS_LEVELS as readonly unknown[]).includes(value)) return undefined;
  return msg('warn.unknownAccess', { value: String(value), level: DEFAULT_ACCESS_LEVEL });
}
