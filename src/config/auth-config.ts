import { ConfigError } from './config-error.js';
import { integer, list, parseUrl, raw, required, type Env } from './env-values.js';

/**
 * How callers sign in. `passthrough`: the caller sends a Graph token, forwarded as it is.
 * `obo`: the caller sends a token for the gateway's own API, checked here, then exchanged
 * on-behalf-of for a Graph token that never leaves the server.
 */
export type AuthConfig =
  | { mode: 'passthrough' }
  | {
      mode: 'obo';
      /** `ENTRA_TENANT_ID`. */
      tenantId: string;
      /** `ENTRA_CLIENT_ID`: the gateway's app registration. */
      clientId: string;
      /** `ENTRA_CLIENT_SECRET`: never printed. */
      clientSecret: string;
      /** `ENTRA_AUTHORITY_HOST`, an https origin without a trailing slash. */
      authorityHost: string;
      /** `AUTH_AUDIENCES`: the audiences a caller's token may carry. */
      audiences: string[];
      /** `AUTH_REQUIRED_SCOPE`: the delegated scope a caller's token must carry in `scp`. */
      requiredScope: string;
      /** `GRAPH_SCOPES`: what the exchange asks Graph's permissions for. */
      graphScopes: string[];
      /** `AUTH_JWKS_COOLDOWN_MS`: after a key fetch, how long until an unknown `kid` may fetch again. */
      jwksCooldownMs: number;
      /** `AUTH_JWKS_REFRESH_MS`: after a key fetch, how long until the keys are fetched again in the background. */
      jwksRefreshMs: number;
      /** `ENTRA_TIMEOUT_MS`: one request to Entra ID (discovery, keys, token endpoint). */
      timeoutMs: number;
      /**
       * `WEB_APP_CLIENT_ID`: the example page's own app registration (a single-page app), which
       * then signs in with MSAL.js: `/app/sign-in.json` tells it this and the authority.
       */
      webAppClientId: string | undefined;
    };

/** Sign-in (`AUTH_MODE` and the `ENTRA_*` / `AUTH_*` settings). */
export function authConfig(env: Env): AuthConfig {
  const mode = raw(env, 'AUTH_MODE') ?? 'passthrough';
  const webAppClientId = raw(env, 'WEB_APP_CLIENT_ID');
  if (mode === 'passthrough' && webAppClientId !== undefined) {
    throw new ConfigError('WEB_APP_CLIENT_ID', 'is for sign-in: set AUTH_MODE=obo too, or leave it out', webAppClientId);
  }
  if (mode === 'passthrough') return { mode };
  if (mode !== 'obo') throw new ConfigError('AUTH_MODE', 'must be passthrough or obo', mode);
  const because = 'when AUTH_MODE is obo';
  const tenantId = required(env, 'ENTRA_TENANT_ID', because);
  const clientId = required(env, 'ENTRA_CLIENT_ID', because);
  const clientSecret = required(env, 'ENTRA_CLIENT_SECRET', because);
  return {
    mode,
    tenantId,
    clientId,
    clientSecret,
    authorityHost: authorityHost(env),
    audiences: list(env, 'AUTH_AUDIENCES', [clientId, `api://${clientId}`], /,/),
    requiredScope: raw(env, 'AUTH_REQUIRED_SCOPE') ?? 'access_as_user',
    graphScopes: list(env, 'GRAPH_SCOPES', ['https://graph.microsoft.com/.default'], /[\s,]+/),
    jwksCooldownMs: integer(env, 'AUTH_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
    jwksRefreshMs: integer(env, 'AUTH_JWKS_REFRESH_MS', 600_000, 1000, 86_400_000),
    timeoutMs: integer(env, 'ENTRA_TIMEOUT_MS', 10_000, 1, 600_000),
    webAppClientId,
  };
}

function authorityHost(env: Env): string {
  const name = 'ENTRA_AUTHORITY_HOST';
  const value = raw(env, name) ?? 'https://login.microsoftonline.com';
  // MSAL takes only an https authority; a path would be taken for the tenant.
  const url = parseUrl(value, ['https:']);
  if (!url || url.origin !== value.replace(/\/+$/, '')) {
    throw new ConfigError(name, 'must be an https origin such as https://login.microsoftonline.com', value);
  }
  return url.origin;
}
