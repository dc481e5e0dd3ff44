// X credentials config node: the API base URL and app-only authentication (a bearer token, or
// an API key + secret exchanged for one, once, shared by every node using this config).
// Secrets live only in Node-RED's credential store. Also the account's X API access level
// (pay-per-use, Basic, Pro, Enterprise), which says what the stream nodes may ask X for; its
// figures (lib/x/access.ts) are served to the editor from here.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import {
  ACCESS_LEVELS,
  DEFAULT_ACCESS_LEVEL,
  DEFAULT_STALL_TIMEOUT_MS,
  isAccessLevel,
  MAX_BACKFILL_MINUTES,
  RECOVERY_REACH_MS,
  X_ACCESS,
  X_STREAM_KEEPALIVE_MS,
  type XAccessLevel,
} from '../../lib/x/access';
import { BearerSource, normaliseBaseUrl, XClient, type XCredentialsProvider } from '../../lib/x/x-client';

interface XCredentialsDef extends NodeDef {
  baseUrl: string;
  authType: 'bearer' | 'keys';
  timeout: string;
  /** The account's X API access level; blank or unknown: pay-per-use. */
  access?: string;
}

interface Secrets {
  bearerToken?: string;
  apiKey?: string;
  apiSecret?: string;
}

type XCredentialsNode = Node<Secrets> & { -readonly [K in keyof XCredentialsProvider]: XCredentialsProvider[K] } & {
  /** What this account may do at X (lib/x/access.ts): limits, modes and gap-recovery means. */
  accessLevel: XAccessLevel;
};

export = function (RED: NodeAPI) {
  function XCredentialsConfigNode(this: XCredentialsNode, config: XCredentialsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const t = (key: string, subs?: Record<string, string>) => RED._(`streamsafe-x-credentials.${key}`, subs);
    let bearer: BearerSource | undefined;
    node.baseUrl = '';
    if (isAccessLevel(config.access)) {
      node.accessLevel = config.access;
    } else {
      node.accessLevel = DEFAULT_ACCESS_LEVEL;
      // A flow from before this setting has none: pay-per-use, silently. Anything else is a typo.
      if (config.access !== undefined && config.access !== '') {
        node.warn(t('warn.unknownAccess', { value: String(config.access), level: DEFAULT_ACCESS_LEVEL }));
      }
    }
    const timeoutMs = Number(config.timeout) > 0 ? Math.round(Number(config.timeout)) : 15_000;
    try {
      node.baseUrl = normaliseBaseUrl(config.baseUrl);
      const creds = node.credentials || {};
      if (config.authType === 'keys') {
        if (!creds.apiKey || !creds.apiSecret) throw new Error(t('errors.noKeys'));
        bearer = new BearerSource(node.baseUrl, { apiKey: creds.apiKey, apiSecret: creds.apiSecret }, timeoutMs);
      } else {
        if (!creds.bearerToken) throw new Error(t('errors.noToken'));
        bearer = new BearerSource(node.baseUrl, { bearerToken: creds.bearerToken.trim() }, timeoutMs);
      }
    } catch (e) {
      node.settingsError = (e as Error).message;
      node.error(t('errors.invalid', { reason: node.settingsError }));
    }

    node.createClient = () => {
      if (!bearer) throw new Error(node.settingsError ?? t('errors.invalid', { reason: '?' }));
      return new XClient({ baseUrl: node.baseUrl, bearer, timeoutMs });
    };
  }

  RED.nodes.registerType('streamsafe-x-credentials', XCredentialsConfigNode as never, {
    credentials: {
      bearerToken: { type: 'password' },
      apiKey: { type: 'password' },
      apiSecret: { type: 'password' },
    },
  });

  // The editor's copy of the access table (the X stream and X credentials dialogs read their
  // figures from here, so they live in lib/x/access.ts only).
  RED.httpAdmin.get('/streamsafe-x-credentials/access-levels', RED.auth.needsPermission('streamsafe-x-credentials.read'), (_req: Request, res: Response) => {
    res.json({
      levels: ACCESS_LEVELS,
      defaultLevel: DEFAULT_ACCESS_LEVEL,
      limits: X_ACCESS,
      recoveryReachMs: RECOVERY_REACH_MS,
      maxBackfillMinutes: MAX_BACKFILL_MINUTES,
      keepAliveMs: X_STREAM_KEEPALIVE_MS,
      defaultStallTimeoutMs: DEFAULT_STALL_TIMEOUT_MS,
    });
  });
};
