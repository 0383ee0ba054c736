import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWK, type JWTPayload, type JWTVerifyOptions } from 'jose';

export type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface SigningKey {
  kid: string;
  privateKey: PrivateKey;
  publicJwk: JWK;
}

/** A tenant's signing keys: the newest signs, all of them are published (as Entra rolls keys over). */
export class TenantKeys {
  readonly #keys: SigningKey[] = [];

  /** A new key, published beside the old ones unless `retireOthers`; it signs from now on. */
  async rotate(retireOthers = false): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    if (retireOthers) this.#keys.length = 0;
    this.#keys.push({ kid, privateKey, publicJwk });
    return kid;
  }

  get current(): SigningKey {
    return this.#keys.at(-1)!;
  }

  jwks(): JSONWebKeySet {
    return { keys: this.#keys.map((key) => key.publicJwk) };
  }

  /** A JWT signed with the current key; `claims` carry their own times. */
  sign(claims: JWTPayload & Record<string, unknown>): Promise<string> {
    const key = this.current;
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid }).sign(key.privateKey);
  }

  /** The claims of a token signed by a published key, checked as `options` say; throws otherwise. */
  async verify(token: string, options: JWTVerifyOptions): Promise<JWTPayload> {
    return (await jwtVerify(token, createLocalJWKSet(this.jwks()), { algorithms: ['RS256'], ...options })).payload;
  }
}
