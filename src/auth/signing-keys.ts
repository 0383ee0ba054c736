import type { Got } from 'got';
import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import type { Logger } from 'pino';

/**
 * The identity provider's keys cannot be read now, and the keys read before (if any) cannot
 * tell whether the token is good: the caller should retry after `retryAfterS`.
 */
export class SigningKeysUnavailableError extends Error {
  constructor(readonly retryAfterS: number) {
    super('The gateway cannot read its identity provider’s signing keys; retry shortly.');
    this.name = 'SigningKeysUnavailableError';
  }
}

export interface SigningKeySettings {
  /** After a successful read, how long before a token with an unknown `kid` may read the keys again. */
  cooldownMs: number;
  /** After a successful read, how long before the keys are read again in the background. */
  refreshMs: number;
}

/**
 * The wait before the next try of a read of the identity provider (its configuration or its
 * keys) that failed after waiting `previousMs` (none yet: `undefined`): 1 s doubling to 30 s.
 */
export function nextRetryMs(previousMs: number | undefined): number {
  return previousMs === undefined ? 1000 : Math.min(previousMs * 2, 30_000);
}

type LocalKeys = ReturnType<typeof createLocalJWKSet>;

/**
 * A tenant's signing keys (its JWKS), for jose's `jwtVerify`. Replaces jose's
 * `createRemoteJWKSet`, which reads the keys on the request that needs them and turns any failure
 * into an error that looks like a bad token: keys past their age were read again on every
 * request and, failing, refused every token; a failed read was retried by the next request.
 * Here the keys last read keep checking tokens whatever happens to the key endpoint; a read
 * that fails is retried in the background after a back-off (never by requests); and a token
 * whose key is not among them gets `SigningKeysUnavailableError` (not a refusal) while the
 * endpoint fails, since its key may be a new one.
 */
export class SigningKeys {
  readonly #uri: string;
  readonly #http: Got;
  readonly #settings: SigningKeySettings;
  readonly #logger: Logger;
  #local: LocalKeys | undefined;
  #readAt = -Infinity;
  /** Set while the last read failed: its reason, and when the next read is due. */
  #failure: { reason: string; waitMs: number; retryAt: number } | undefined;
  #reading: Promise<boolean> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(uri: string, http: Got, settings: SigningKeySettings, logger: Logger) {
    this.#uri = uri;
    this.#http = http;
    this.#settings = settings;
    this.#logger = logger;
  }

  /** Why tokens cannot all be checked now (keys never read, or the last read failed); `undefined` when they can. */
  get problem(): string | undefined {
    if (this.#failure) return `cannot read the identity provider’s keys (${this.#failure.reason}); retrying`;
    return this.#local === undefined ? 'reading the identity provider’s keys' : undefined;
  }

  /** Keys have been read at least once (they keep serving whatever happens since). */
  get everRead(): boolean {
    return this.#local !== undefined;
  }

  /** Reads the keys (one read at a time); resolves whether that succeeded. A failure is retried in the background. */
  read(): Promise<boolean> {
    this.#reading ??= this.fetch().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
  }

  /**
   * The key for a token's header, for `jwtVerify`.
   *
   * @throws jose's JWKSNoMatchingKey when the endpoint, answering, has no such key; SigningKeysUnavailableError when it cannot be asked.
   */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    const local = this.#local;
    if (local === undefined) throw this.unavailable();
    if (this.#failure === undefined && Date.now() >= this.#readAt + this.#settings.refreshMs) void this.read();
    try {
      return await local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // While reads fail the key may be a new one: only the back-off's read may tell.
      if (this.#failure !== undefined) throw this.unavailable();
      if (Date.now() < this.#readAt + this.#settings.cooldownMs) throw error;
      if (!(await this.read())) throw this.unavailable();
      return this.#local!(header, token);
    }
  };

  private unavailable(): SigningKeysUnavailableError {
    const waitMs = this.#failure === undefined ? 0 : this.#failure.retryAt - Date.now();
    return new SigningKeysUnavailableError(Math.max(1, Math.ceil(waitMs / 1000)));
  }

  private async fetch(): Promise<boolean> {
    try {
      const response = await this.#http(this.#uri, { responseType: 'json' });
      if (response.statusCode !== 200) throw new Error(`the key endpoint answered ${response.statusCode}`);
      // Throws for anything but a JSON Web Key Set.
      const local = createLocalJWKSet(response.body as JSONWebKeySet);
      this.#local = local;
      this.#readAt = Date.now();
      if (this.#failure) this.#logger.info('sign-in: identity provider keys read again');
      this.#failure = undefined;
      return true;
    } catch (error) {
      if (!this.#stopped) this.failed((error as Error).message);
      return false;
    }
  }

  private failed(reason: string): void {
    const waitMs = nextRetryMs(this.#failure?.waitMs);
    this.#failure = { reason, waitMs, retryAt: Date.now() + waitMs };
    this.#logger.warn({ err: { message: reason }, retryInMs: waitMs, keysKnown: this.#local !== undefined }, 'sign-in: could not read the identity provider’s keys');
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.read(), waitMs);
    this.#retry.unref();
  }
}
