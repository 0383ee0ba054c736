import type { ServerResponse } from 'node:http';
import { SignJWT, type JWTPayload } from 'jose';
import { oauthError, send } from './http-answers.js';
import { unmetChallenge, type SpaTenant } from './spa-grants.js';

/** The grant of the on-behalf-of flow (docs/graph-behaviour.md, "Sign-in"). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The audience of the tokens the simulator issues for Graph. */
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';
/** The scope the gateway asks for: Graph's permissions granted to the gateway's app. */
export const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

export interface OnBehalfOfTenant extends SpaTenant {
  clientSecret: string;
  graphTokenLifetimeS: number;
}

/**
 * The on-behalf-of grant, checked as Entra checks it: the gateway's secret, the incoming token
 * (an access token for the gateway's API) and, when a claims challenge is set for its user, the
 * authentication context the token must carry; answers a Graph token for the same user.
 */
export async function answerOnBehalfOf(tenant: OnBehalfOfTenant, params: URLSearchParams, response: ServerResponse): Promise<void> {
  if (params.get('client_id') !== tenant.apiClientId || params.get('client_secret') !== tenant.clientSecret) {
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
    user = await tenant.keys.verify(params.get('assertion') ?? '', {
      audience: [tenant.apiClientId, `api://${tenant.apiClientId}`],
      issuer: tenant.issuer,
      // Five minutes of clock skew, Microsoft's token validation default (IdentityModel's
      // DefaultClockSkew): an assertion the gateway still accepts within its own 60 s is exchanged.
      clockTolerance: 300,
    });
  } catch {
    return oauthError(response, 'invalid_grant', 50013, 'Assertion failed signature validation, or is expired or not for this app.');
  }
  const challenge = unmetChallenge(tenant, String(user['oid']), user['acrs']);
  if (challenge !== undefined) return oauthError(response, 'interaction_required', 50076, 'Conditional Access asks the user for an authentication context the token does not carry.', { claims: challenge });
  const now = Math.floor(Date.now() / 1000);
  const lifetime = tenant.graphTokenLifetimeS;
  const key = tenant.keys.current;
  const accessToken = await new SignJWT({ aud: GRAPH_AUDIENCE, iss: tenant.issuer, oid: user['oid'], tid: tenant.tenantId, scp: 'Contacts.ReadWrite', ver: '1.0' })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + lifetime)
    .sign(key.privateKey);
  const idToken = await new SignJWT({ aud: tenant.apiClientId, iss: tenant.issuer, oid: user['oid'], tid: tenant.tenantId, sub: user['sub'], ver: '2.0' })
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
    client_info: Buffer.from(JSON.stringify({ uid: user['oid'], utid: tenant.tenantId })).toString('base64url'),
  });
}
