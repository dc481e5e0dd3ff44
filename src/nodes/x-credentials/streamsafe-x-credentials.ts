// X credentials config node: the API base URL and app-only authentication (a bearer token, or
// an API key + secret exchanged for one, once, shared by every node using this config).
// Secrets live only in Node-RED's credential store.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { BearerSource, normaliseBaseUrl, XClient, type XCredentialsProvider } from '../../lib/x/x-client';

interface XCredentialsDef extends NodeDef {
  baseUrl: string;
  authType: 'bearer' | 'keys';
  timeout: string;
}

interface Secrets {
  bearerToken?: string;
  apiKey?: string;
  apiSecret?: string;
}

type XCredentialsNode = Node<Secrets> & { -readonly [K in keyof XCredentialsProvider]: XCredentialsProvider[K] };

export = function (RED: NodeAPI) {
  function XCredentialsConfigNode(this: XCredentialsNode, config: XCredentialsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const t = (key: string, subs?: Record<string, string>) => RED._(`streamsafe-x-credentials.${key}`, subs);
    let bearer: BearerSource | undefined;
    node.baseUrl = '';
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
};
