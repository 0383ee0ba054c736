import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { FaultQueue } from '../fault-queue.js';
import { AuthorizeEndpoint } from './authorize-endpoint.js';
import { createServerCertificate } from './certificate-authority.js';
import { ALLOWED_METHODS, CORS_ENDPOINTS, ENDPOINT_PATHS, preflight, type Endpoint } from './endpoints.js';
import { answerControl, ENTRA_CONTROL_PREFIX } from './entra-control-api.js';
import { answerFault, type EntraFault } from './entra-faults.js';
import { oauthError, send } from './http-answers.js';
import { answerOnBehalfOf, GRAPH_AUDIENCE, JWT_BEARER_GRANT } from './on-behalf-of-grant.js';
import { signOut } from './sign-out-endpoint.js';
import { TenantKeys } from './signing-keys.js';
import { acrsChallenge, SpaClient } from './spa-client.js';
import { answerSpaGrant, type SpaTenant } from './spa-grants.js';
import { signUserToken, type UserTokenOptions } from './user-tokens.js';

export { GRAPH_AUDIENCE, GRAPH_DEFAULT_SCOPE, JWT_BEARER_GRANT } from './on-behalf-of-grant.js';
export type { EntraFault } from './entra-faults.js';
export type { UserTokenOptions } from './user-tokens.js';

export interface EntraSimulatorOptions {
  tenantId?: string;
  /**
   * A domain name the tenant answers to as well (`contoso.onmicrosoft.com`), as Entra's endpoints
   * do: its OpenID configuration still names the tenant id in `issuer`, and tokens carry it in `tid`.
   */
  domain?: string;
  /** The gateway's app (its API's audience, and the client of the on-behalf-of grant). */
  clientId?: string;
  clientSecret?: string;
  /** Where to write the CA's certificate (PEM); a new temporary file by default. */
  caFile?: string;
  /** Lifetime of the Graph tokens it issues, in seconds; default 3599, as Entra. */
  graphTokenLifetimeS?: number;
  /**
   * The single-page app's registration (the SPA platform): its client id (a new one by default)
   * and redirect URIs, whose origins get CORS headers. More with `addSpaRedirectUri`.
   */
  spa?: { clientId?: string; redirectUris?: string[] };
  /** The control API over HTTP (claims challenges, token lifetime; entra-control-api.ts): `npm run demo` only. */
  controlApi?: boolean;
}

/** A token endpoint request as received (never the secret). */
export interface TokenRequest {
  grantType: string | null;
  requestedTokenUse: string | null;
  clientId: string | null;
  scope: string | null;
  /** The incoming token (`assertion`) the gateway exchanged. */
  assertion: string | null;
}

/**
 * A small Microsoft Entra ID over HTTPS (its own CA, see certificate-authority.ts): a tenant's
 * OpenID configuration, its signing keys (JWKS, which can be rotated), and the token endpoint's
 * on-behalf-of grant, which checks the client's secret and the incoming token and issues a
 * Graph token for its user. For a single-page app (MSAL.js in a browser), the authorization
 * endpoint with its sign-in page (authorize-endpoint.ts), the code and refresh token grants
 * (spa-grants.ts), sign-out (sign-out-endpoint.ts) and CORS for its origins. It issues users'
 * tokens for the gateway's API directly too, good or deliberately bad, and can be told to fail.
 */
export class EntraSimulator {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly #options: EntraSimulatorOptions;
  readonly #keys = new TenantKeys();
  readonly #spa: SpaClient;
  readonly #authorize: AuthorizeEndpoint;
  /** The authentication context (`acrs`) each user must meet, by `oid`: claims challenges set. */
  readonly #requiredAcrs = new Map<string, string>();
  #accessTokenLifetimeS = 3600;
  readonly #faults = new FaultQueue<EntraFault>();
  readonly #sockets = new Set<Socket>();
  readonly #tokenRequests: TokenRequest[] = [];
  #server: https.Server | undefined;
  #authorityHost: string | undefined;
  #caFile: string | undefined;
  #discoveryRequests = 0;
  #keysRequests = 0;

  constructor(options: EntraSimulatorOptions = {}) {
    this.#options = options;
    this.tenantId = options.tenantId ?? randomUUID();
    this.clientId = options.clientId ?? randomUUID();
    this.clientSecret = options.clientSecret ?? `secret-${randomUUID()}`;
    this.#spa = new SpaClient(options.spa?.clientId ?? randomUUID(), options.spa?.redirectUris);
    this.#authorize = new AuthorizeEndpoint(this.#spa, this.clientId);
  }

  /** The single-page app's client id (its own app registration, beside the gateway's). */
  get spaClientId(): string {
    return this.#spa.clientId;
  }

  /** Registers a redirect URI of the single-page app (its origin then gets CORS headers). */
  addSpaRedirectUri(uri: string): void {
    this.#spa.addRedirectUri(uri);
  }

  /**
   * A claims challenge for a user: the on-behalf-of grant answers `interaction_required` with it
   * for the user's tokens that do not carry `acrs` (what Conditional Access asks with an
   * authentication context); signing in again, asking for those claims, meets it. Answers the
   * challenge (JSON).
   */
  requireAcrs(oid: string, acrs = 'c1'): string {
    this.#requiredAcrs.set(oid, acrs);
    return acrsChallenge(acrs);
  }

  clearClaimsChallenges(): void {
    this.#requiredAcrs.clear();
  }

  /** The lifetime of the single-page app's access and ID tokens from now on (3600 s by default). */
  setAccessTokenLifetime(seconds: number): void {
    this.#accessTokenLifetimeS = seconds;
  }

  /** Makes its CA and keys and starts listening on 127.0.0.1; answers the authority host, e.g. `https://127.0.0.1:5123`. */
  async listen(port = 0): Promise<string> {
    const certificate = await createServerCertificate();
    this.#caFile = this.#options.caFile ?? join(mkdtempSync(join(os.tmpdir(), 'entra-simulator-')), 'ca.pem');
    writeFileSync(this.#caFile, certificate.caPem);
    await this.#keys.rotate();
    const server = https.createServer({ key: certificate.keyPem, cert: `${certificate.certPem}\n${certificate.caPem}` }, (request, response) => void this.handle(request, response));
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#authorityHost = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#authorityHost;
  }

  /** `ENTRA_AUTHORITY_HOST` for the gateway. */
  get authorityHost(): string {
    if (this.#authorityHost === undefined) throw new Error('The Entra simulator is not listening yet.');
    return this.#authorityHost;
  }

  /** The CA certificate's file, for `NODE_EXTRA_CA_CERTS`. */
  get caFile(): string {
    if (this.#caFile === undefined) throw new Error('The Entra simulator is not listening yet.');
    return this.#caFile;
  }

  /** The tenant's issuer, as its v2.0 tokens carry it. */
  get issuer(): string {
    return `${this.authorityHost}/${this.tenantId}/v2.0`;
  }

  /** The settings a gateway in `obo` mode needs to use this tenant (the secret included). */
  gatewayEnv(): Record<string, string> {
    return {
      AUTH_MODE: 'obo',
      ENTRA_TENANT_ID: this.tenantId,
      ENTRA_CLIENT_ID: this.clientId,
      ENTRA_CLIENT_SECRET: this.clientSecret,
      ENTRA_AUTHORITY_HOST: this.authorityHost,
      NODE_EXTRA_CA_CERTS: this.caFile,
    };
  }

  /** Token endpoint requests received, oldest first. */
  get tokenRequests(): readonly TokenRequest[] {
    return this.#tokenRequests;
  }

  /** Requests for the OpenID configuration or the keys. */
  get discoveryRequests(): number {
    return this.#discoveryRequests;
  }

  /** Requests for the keys (JWKS) alone. */
  get keysRequests(): number {
    return this.#keysRequests;
  }

  /** Queues a fault for the endpoint's next request(s). */
  fail(fault: EntraFault): this {
    this.#faults.add(fault);
    return this;
  }

  /** Forgets faults and received requests (keys and issued tokens stay valid). */
  reset(): void {
    this.#faults.clear();
    this.#tokenRequests.length = 0;
    this.#discoveryRequests = 0;
    this.#keysRequests = 0;
  }

  /**
   * A new signing key, published beside the old ones (as Entra rolls keys over) and used for
   * every token from now on; `retireOthers` stops publishing the old ones.
   */
  rotateSigningKey(retireOthers = false): Promise<string> {
    return this.#keys.rotate(retireOthers);
  }

  /** A user's access token for the gateway's API, as MSAL.js would get it for `api://{client id}/access_as_user`. */
  userToken(options: UserTokenOptions = {}): Promise<string> {
    return signUserToken({ ...this.spaTenant(), clientSecret: this.clientSecret }, options);
  }

  /**
   * Who a Graph token the simulator issued is for (`{tid}/{oid}`), or `undefined` for any other
   * string: the Graph simulator, in `obo` mode, accepts only these.
   */
  async graphPrincipal(token: string): Promise<string | undefined> {
    try {
      const payload = await this.#keys.verify(token, { audience: GRAPH_AUDIENCE, issuer: this.issuer });
      return `${String(payload['tid'])}/${String(payload['oid'])}`;
    } catch {
      return undefined;
    }
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', 'https://simulator.invalid');
    const path = this.withTenantId(url.pathname);
    if (this.#options.controlApi && path.startsWith(ENTRA_CONTROL_PREFIX)) return answerControl(this, request, path, body, response);
    const method = request.method ?? 'GET';
    const endpoint = this.endpointOf(path);
    if (endpoint === undefined || !ALLOWED_METHODS[endpoint].includes(method)) {
      return send(response, 404, { error: 'not_found', error_description: `No such endpoint: ${method} ${path}` });
    }
    // A single-page app reads these cross-origin: its registered origins, and only these, may.
    const origin = request.headers.origin;
    if (CORS_ENDPOINTS.has(endpoint) && this.#spa.allowsOrigin(origin)) response.setHeader('access-control-allow-origin', origin!).setHeader('vary', 'Origin');
    if (method === 'OPTIONS') return preflight(response, request.headers['access-control-request-headers']);
    if (endpoint === 'authorize') return method === 'GET' ? this.#authorize.start(url.searchParams, response) : this.#authorize.finish(new URLSearchParams(body), response);
    if (endpoint === 'logout') return signOut(this.#spa, url.searchParams, response);
    if (endpoint === 'token') this.#tokenRequests.push(tokenRequestOf(body));
    else this.#discoveryRequests++;
    if (endpoint === 'keys') this.#keysRequests++;

    const fault = this.#faults.take((candidate) => candidate.endpoint === endpoint);
    if (fault?.hang) return;
    if (fault) return answerFault(response, fault);
    switch (endpoint) {
      case 'openid-configuration':
        return send(response, 200, this.openIdConfiguration());
      case 'keys':
        return send(response, 200, this.#keys.jwks());
      case 'token':
        return this.answerToken(response, new URLSearchParams(body), request.headers['content-type'], origin);
    }
  }

  private endpointOf(path: string): Endpoint | undefined {
    const tenant = `/${this.tenantId}`;
    return (Object.keys(ENDPOINT_PATHS) as Endpoint[]).find((endpoint) => path === `${tenant}${ENDPOINT_PATHS[endpoint]}`);
  }

  /** The tenant as the single-page app's grants see it. */
  private spaTenant(): SpaTenant {
    return {
      tenantId: this.tenantId,
      issuer: this.issuer,
      apiClientId: this.clientId,
      keys: this.#keys,
      accessTokenLifetimeS: () => this.#accessTokenLifetimeS,
      requiredAcrs: (oid) => this.#requiredAcrs.get(oid),
    };
  }

  /** The path with the tenant's domain name, if it starts with it, replaced by the tenant id. */
  private withTenantId(path: string): string {
    const domain = this.#options.domain;
    return domain !== undefined && path.toLowerCase().startsWith(`/${domain.toLowerCase()}/`) ? `/${this.tenantId}${path.slice(domain.length + 1)}` : path;
  }

  /** What it serves, and only that (no `form_post`, no `client_secret_basic`, no implicit grant). */
  private openIdConfiguration(): Record<string, unknown> {
    const base = `${this.authorityHost}/${this.tenantId}`;
    return {
      issuer: this.issuer,
      authorization_endpoint: `${base}${ENDPOINT_PATHS.authorize}`,
      token_endpoint: `${base}${ENDPOINT_PATHS.token}`,
      end_session_endpoint: `${base}${ENDPOINT_PATHS.logout}`,
      jwks_uri: `${base}${ENDPOINT_PATHS.keys}`,
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'fragment'],
      grant_types_supported: ['authorization_code', 'refresh_token', JWT_BEARER_GRANT],
      code_challenge_methods_supported: ['S256'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'none'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      claims_parameter_supported: true,
    };
  }

  /** The token endpoint: the SPA's grants (spa-grants.ts), or the on-behalf-of grant, checked as Entra checks it. */
  private async answerToken(response: ServerResponse, params: URLSearchParams, contentType: string | undefined, origin: string | undefined): Promise<void> {
    if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return oauthError(response, 'invalid_request', 900144, 'The request body must be application/x-www-form-urlencoded.');
    }
    const grantType = params.get('grant_type');
    if (grantType === 'authorization_code' || grantType === 'refresh_token') return answerSpaGrant(this.spaTenant(), this.#spa, params, origin, response);
    if (grantType !== JWT_BEARER_GRANT) {
      return oauthError(response, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    return answerOnBehalfOf({ ...this.spaTenant(), clientSecret: this.clientSecret, graphTokenLifetimeS: this.#options.graphTokenLifetimeS ?? 3599 }, params, response);
  }
}

function tokenRequestOf(body: string): TokenRequest {
  const params = new URLSearchParams(body);
  return {
    grantType: params.get('grant_type'),
    requestedTokenUse: params.get('requested_token_use'),
    clientId: params.get('client_id'),
    scope: params.get('scope'),
    assertion: params.get('assertion'),
  };
}
