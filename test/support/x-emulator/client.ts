// twitter-api-v2 (1.29) pointed at the emulator, for tests.
//
// The library has no base-URL setting (cloneWithPrefix does not work in 1.29) and always
// builds https://api.x.com/... URLs. A plugin rewrites the URL of every request and stream
// before it is built, and an http.Agent lets its https.request() speak plain HTTP to
// 127.0.0.1 (Node's ClientRequest takes the agent's protocol). src/lib will get the production
// version of this; this one is only for tests.
import * as http from 'node:http';
import { TwitterApi, type IClientSettings, type ITwitterApiClientPlugin, type TwitterApiTokens } from 'twitter-api-v2';

const X_ORIGINS = /^https?:\/\/(?:api|upload)\.(?:x|twitter)\.com(?=\/|$)/i;

/** A plugin that sends every request for api.x.com / api.twitter.com to `baseUrl` instead. */
export function redirectPlugin(baseUrl: string): ITwitterApiClientPlugin {
  const base = baseUrl.replace(/\/+$/, '');
  const rewrite = (params: { url: string }): void => {
    params.url = params.url.replace(X_ORIGINS, base);
  };
  return {
    onBeforeRequestConfig: ({ params }) => {
      rewrite(params);
    },
    onBeforeStreamRequestConfig: ({ params }) => {
      rewrite(params);
    },
  };
}

/** Settings for `new TwitterApi(token, settings)` that talk to the emulator at `baseUrl`. */
export function emulatorSettings(baseUrl: string, extra: Partial<IClientSettings> = {}): Partial<IClientSettings> {
  const plugins = [redirectPlugin(baseUrl), ...(extra.plugins ?? [])];
  return {
    // A fresh agent without keep-alive: a test's streams and requests never share sockets.
    httpAgent: new http.Agent({ keepAlive: false }),
    // The emulator answers uncompressed whatever is accepted; ask for nothing to keep it simple.
    compression: 'identity',
    ...extra,
    plugins,
  };
}

/**
 * A twitter-api-v2 client for the emulator: `emulatorClient(emu)` uses its first bearer token;
 * `emulatorClient(emu.url, tokenOrCredentials)` anything else the library accepts
 * (a bearer token, or { appKey, appSecret } for appLogin()).
 */
export function emulatorClient(
  target: string | { url: string; bearerToken: string },
  token?: string | TwitterApiTokens,
  extra: Partial<IClientSettings> = {},
): TwitterApi {
  const url = typeof target === 'string' ? target : target.url;
  const auth = token ?? (typeof target === 'string' ? undefined : target.bearerToken);
  if (auth === undefined) throw new Error('emulatorClient: no token given');
  const settings = emulatorSettings(url, extra);
  return typeof auth === 'string' ? new TwitterApi(auth, settings) : new TwitterApi(auth, settings);
}
