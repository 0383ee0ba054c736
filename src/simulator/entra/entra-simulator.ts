import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';
import { FaultQueue } from '../fault-queue.js';
import { createServerCertificate } from './certificate-authority.js';

/** The grant of the on-behalf-of flow (docs/graph-behaviour.md, "Sign-in"). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The audience of the tokens the simulator issues for Graph. */
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';
/** The scope the gateway asks for: Graph's permissions granted to the gateway's app. */
export const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

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
}

/** What an endpoint can be told to do instead of answering normally, for its next `times` requests. */
export interface EntraFault {
  endpoint: 'token' | 'openid-configuration' | 'keys';
  times?: number;
  /** An HTTP status with no OAuth error (a 503 from the service, say). */
  status?: number;
  /**
   * An OAuth error (the status is 400, 401 for `invalid_client`). `unauthorized_client` is the
   * app not found in the tenant or not allowed the grant (AADSTS700016): the operator's problem.
   */
  error?: 'invalid_grant' | 'interaction_required' | 'invalid_client' | 'unauthorized_client' | 'invalid_request';
  /** The error's `suberror` (`consent_required` comes as `invalid_grant` with it). */
  suberror?: string;
  /** A claims challenge, as Entra sends with Conditional Access. */
  claims?: string;
  /** The AADSTS code in the description, e.g. 65001. */
  aadsts?: number;
  retryAfter?: string;
  /** Never answer. */
  hang?: boolean;
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

/** What a user's token for the gateway's API may be made with, to test each refusal. */
export interface UserTokenOptions {
  oid?: string;
  /** Space-separated delegated scopes (`scp`); `null` leaves the claim out (an app-only token). */
  scp?: string | null;
  aud?: string;
  iss?: string;
  /** Seconds from now; negative for an expired token; `null` leaves `exp` out. */
  expiresInS?: number | null;
  /** Seconds from now before which the token is not valid. */
  notBeforeInS?: number;
  /** The tenant (`tid`); the simulator's own by default. */
  tid?: string;
  /** Sign with a key the tenant never published (a forged token under a known `kid`). */
  forged?: boolean;
  /** Sign with a key the tenant never published, under a `kid` it never published either. */
  unknownKid?: boolean;
  /** `HS256` with the client secret, or `none`: algorithms a verifier must refuse. */
  alg?: 'HS256' | 'none';
}

interface SigningKey {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  publicJwk: JWK;
}

/**
 * A small Microsoft Entra ID over HTTPS (its own CA, see certificate-authority.ts): a tenant's
 * OpenID configuration, its signing keys (JWKS, which can be rotated), and the token endpoint's
 * on-behalf-of grant, which checks the client's secret and the incoming token and issues a
 * Graph token for its user. It issues users' tokens for the gateway's API too (what MSAL.js in
 * a browser would get), good or deliberately bad, and can be told to fail.
 */
export class EntraSimulator {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly #options: EntraSimulatorOptions;
  readonly #keys: SigningKey[] = [];
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
  }

  /** Makes its CA and keys and starts listening on 127.0.0.1; answers the authority host, e.g. `https://127.0.0.1:5123`. */
  async listen(port = 0): Promise<string> {
    const certificate = await createServerCertificate();
    this.#caFile = this.#options.caFile ?? join(mkdtempSync(join(os.tmpdir(), 'entra-simulator-')), 'ca.pem');
    writeFileSync(this.#caFile, certificate.caPem);
    await this.rotateSigningKey();
    const server = https.createServer({ key: certificate.keyPem, cert: certificate.certPem }, (request, response) => void this.handle(request, response));
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
  async rotateSigningKey(retireOthers = false): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    if (retireOthers) this.#keys.length = 0;
    this.#keys.push({ kid, privateKey, publicJwk });
    return kid;
  }

  /** A user's access token for the gateway's API, as MSAL.js would get it for `api://{client id}/access_as_user`. */
  async userToken(options: UserTokenOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload & Record<string, unknown> = {
      aud: options.aud ?? this.clientId,
      iss: options.iss ?? this.issuer,
      iat: now,
      nbf: now + (options.notBeforeInS ?? 0),
      oid: options.oid ?? randomUUID(),
      tid: options.tid ?? this.tenantId,
      sub: randomUUID(),
      ver: '2.0',
      azp: randomUUID(),
    };
    if (options.expiresInS !== null) claims.exp = now + (options.expiresInS ?? 3600);
    if (options.scp !== null) claims['scp'] = options.scp ?? 'access_as_user';
    if (options.alg === 'none') {
      const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
      return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    }
    if (options.alg === 'HS256') {
      return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: this.currentKey().kid }).sign(new TextEncoder().encode(this.clientSecret));
    }
    const key = this.currentKey();
    const signingKey = options.forged || options.unknownKid ? (await generateKeyPair('RS256')).privateKey : key.privateKey;
    const kid = options.unknownKid ? randomUUID() : key.kid;
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(signingKey);
  }

  /**
   * Who a Graph token the simulator issued is for (`{tid}/{oid}`), or `undefined` for any other
   * string: the Graph simulator, in `obo` mode, accepts only these.
   */
  async graphPrincipal(token: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(this.jwks()), { audience: GRAPH_AUDIENCE, issuer: this.issuer, algorithms: ['RS256'] });
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

  private currentKey(): SigningKey {
    return this.#keys.at(-1)!;
  }

  private jwks(): JSONWebKeySet {
    return { keys: this.#keys.map((key) => key.publicJwk) };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = this.withTenantId((request.url ?? '/').split('?')[0]!);
    const tenant = `/${this.tenantId}`;
    const endpoint =
      path === `${tenant}/v2.0/.well-known/openid-configuration`
        ? 'openid-configuration'
        : path === `${tenant}/discovery/v2.0/keys`
          ? 'keys'
          : path === `${tenant}/oauth2/v2.0/token` && request.method === 'POST'
            ? 'token'
            : undefined;
    if (endpoint === undefined) return send(response, 404, { error: 'not_found', error_description: `No such endpoint: ${request.method} ${path}` });
    if (endpoint === 'token') this.#tokenRequests.push(tokenRequestOf(body));
    else this.#discoveryRequests++;
    if (endpoint === 'keys') this.#keysRequests++;

    const fault = this.#faults.take((candidate) => candidate.endpoint === endpoint);
    if (fault?.hang) return;
    if (fault) return this.answerFault(response, fault);
    switch (endpoint) {
      case 'openid-configuration':
        return send(response, 200, this.openIdConfiguration());
      case 'keys':
        return send(response, 200, this.jwks());
      case 'token':
        return this.answerToken(response, new URLSearchParams(body), request.headers['content-type']);
    }
  }

  /** The path with the tenant's domain name, if it starts with it, replaced by the tenant id. */
  private withTenantId(path: string): string {
    const domain = this.#options.domain;
    return domain !== undefined && path.toLowerCase().startsWith(`/${domain.toLowerCase()}/`) ? `/${this.tenantId}${path.slice(domain.length + 1)}` : path;
  }

  private openIdConfiguration(): Record<string, unknown> {
    const base = `${this.authorityHost}/${this.tenantId}`;
    return {
      issuer: this.issuer,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      tenant_region_scope: 'EU',
    };
  }

  /** The on-behalf-of grant, checked as Entra checks it. */
  private async answerToken(response: ServerResponse, params: URLSearchParams, contentType: string | undefined): Promise<void> {
    if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return oauthError(response, 'invalid_request', 900144, 'The request body must be application/x-www-form-urlencoded.');
    }
    if (params.get('grant_type') !== JWT_BEARER_GRANT) {
      return oauthError(response, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    if (params.get('client_id') !== this.clientId || params.get('client_secret') !== this.clientSecret) {
      return oauthError(response, 'invalid_client', 7000215, 'Invalid client secret provided.');
    }
    if (params.get('requested_token_use') !== 'on_behalf_of') {
      return oauthError(response, 'invalid_request', 900144, "The request body must contain 'requested_token_use=on_behalf_of'.");
    }
    if (!(params.get('scope') ?? '').split(' ').includes(GRAPH_DEFAULT_SCOPE)) {
      return oauthError(response, 'invalid_scope', 70011, `The scope must include ${GRAPH_DEFAULT_SCOPE}.`);
    }
    let user: JWTPayload;
    try {
      ({ payload: user } = await jwtVerify(params.get('assertion') ?? '', createLocalJWKSet(this.jwks()), {
        audience: [this.clientId, `api://${this.clientId}`],
        issuer: this.issuer,
        algorithms: ['RS256'],
        // Five minutes of clock skew, Microsoft's token validation default (IdentityModel's
        // DefaultClockSkew): an assertion the gateway still accepts within its own 60 s is exchanged.
        clockTolerance: 300,
      }));
    } catch {
      return oauthError(response, 'invalid_grant', 50013, 'Assertion failed signature validation, or is expired or not for this app.');
    }
    const now = Math.floor(Date.now() / 1000);
    const lifetime = this.#options.graphTokenLifetimeS ?? 3599;
    const key = this.currentKey();
    const accessToken = await new SignJWT({ aud: GRAPH_AUDIENCE, iss: this.issuer, oid: user['oid'], tid: this.tenantId, scp: 'Contacts.ReadWrite', ver: '1.0' })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetime)
      .sign(key.privateKey);
    const idToken = await new SignJWT({ aud: this.clientId, iss: this.issuer, oid: user['oid'], tid: this.tenantId, sub: user['sub'], ver: '2.0' })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setIssuedAt(now)
      .setExpirationTime(now + lifetime)
      .sign(key.privateKey);
    send(response, 200, {
      token_type: 'Bearer',
      // The granted permissions, and the `.default` asked for (as Entra's v2 endpoint lists it):
      // MSAL finds the token in its cache again by the scopes it asked for.
      scope: `${GRAPH_AUDIENCE}/Contacts.ReadWrite ${GRAPH_DEFAULT_SCOPE}`,
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
      id_token: idToken,
      client_info: Buffer.from(JSON.stringify({ uid: user['oid'], utid: this.tenantId })).toString('base64url'),
    });
  }

  private answerFault(response: ServerResponse, fault: EntraFault): void {
    const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
    if (fault.error === undefined) {
      return send(response, fault.status ?? 500, { error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred.' }, headers);
    }
    const aadsts = fault.aadsts ?? (fault.suberror === 'consent_required' ? 65001 : fault.error === 'interaction_required' ? 50076 : fault.error === 'unauthorized_client' ? 700016 : 50013);
    oauthError(response, fault.error, aadsts, 'A simulated error.', { ...(fault.suberror && { suberror: fault.suberror }), ...(fault.claims && { claims: fault.claims }) }, headers);
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

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** An OAuth 2.0 error as Entra answers it: 401 for `invalid_client`, 400 otherwise. */
function oauthError(response: ServerResponse, error: string, aadsts: number, description: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}): void {
  const traceId = randomUUID();
  send(
    response,
    error === 'invalid_client' ? 401 : 400,
    {
      error,
      error_description: `AADSTS${aadsts}: ${description} Trace ID: ${traceId} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [aadsts],
      timestamp: new Date().toISOString(),
      trace_id: traceId,
      ...extra,
    },
    headers,
  );
}
