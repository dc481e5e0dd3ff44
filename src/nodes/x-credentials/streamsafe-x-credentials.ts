// X credentials config node: the API base URL and app-only authentication (a bearer token, or
// an API key + secret exchanged for one, once, shared by every node using this config).
// Secrets live only in Node-RED's credential store. Also the account's X API access level
// (pay-per-use, Basic, Pro, Enterprise), which says what the stream nodes may ask X for
// (lib/x/access.ts). The settings are checked by lib/x/credentials.ts, as in the editor.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { renderMessage } from '../../lib/common/status-message';
import { DEFAULT_ACCESS_LEVEL, isAccessLevel, type XAccessLevel } from '../../lib/x/access';
import { credentialsMessage, normaliseBaseUrl, requestTimeoutMs, unknownAccessLevel, xCredentialsProblems } from '../../lib/x/credentials';
import { BearerSource, XClient, type XCredentialsProvider } from '../../lib/x/x-client';

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
    const t = (key: string, subs?: Record<string, string | number>) => RED._(`streamsafe-x-credentials.${key}`, subs);
    let bearer: BearerSource | undefined;
    node.baseUrl = '';
    node.accessLevel = isAccessLevel(config.access) ? config.access : DEFAULT_ACCESS_LEVEL;
    // A flow from before this setting has none: pay-per-use, silently. Anything else is a typo.
    const unknownAccess = unknownAccessLevel(config.access);
    if (unknownAccess) node.warn(renderMessage(unknownAccess, t));

    const creds = node.credentials || {};
    const problems = xCredentialsProblems(config, creds);
    const timeoutMs = requestTimeoutMs(config.timeout);
    if (problems.length) {
      // The first one is the account's reason: the X stream nodes show it in their status.
      node.settingsProblem = problems[0];
      node.settingsError = problems.map((p) => renderMessage(credentialsMessage(p), t)).join('; ');
      node.error(t('errors.invalid', { reason: node.settingsError }));
    } else {
      node.baseUrl = normaliseBaseUrl(config.baseUrl);
      bearer = config.authType === 'keys'
        ? new BearerSource(node.baseUrl, { apiKey: creds.apiKey!, apiSecret: creds.apiSecret! }, timeoutMs)
        : new BearerSource(node.baseUrl, { bearerToken: creds.bearerToken!.trim() }, timeoutMs);
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
};
