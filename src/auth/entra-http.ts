import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import got, { type Got } from 'got';

/**
 * The gateway's HTTP client for Microsoft Entra ID (discovery, keys, the token endpoint): got,
 * with a timeout per request, no redirects, no retries of its own (MSAL and the verifier decide),
 * and TLS verified through Node's trust store (a private CA comes in `NODE_EXTRA_CA_CERTS`;
 * nothing here turns verification off).
 */
export function entraHttpClient(timeoutMs: number): Got {
  return got.extend({ timeout: { request: timeoutMs }, retry: { limit: 0 }, followRedirect: false, throwHttpErrors: false });
}

/** MSAL's error codes for an exchange with Entra that got no answer (mapped in token-exchange.ts). */
export const ENTRA_TIMEOUT = 'entra_timeout';
export const ENTRA_UNREACHABLE = 'entra_unreachable';

/** MSAL's wait after a 429 or 5xx without `Retry-After`, and its longest wait (msal-common's throttling). */
const DEFAULT_WAIT_S = 60;
const MAX_WAIT_S = 3600;

/**
 * The wait a refusal asks for, in whole seconds: `Retry-After` as seconds or an HTTP date,
 * 60 s when absent or unreadable, at most an hour (as MSAL reads it).
 */
function retryAfterSeconds(header: string | undefined, nowMs = Date.now()): number {
  const trimmed = header?.trim() ?? '';
  let seconds = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : (Date.parse(trimmed) - nowMs) / 1000;
  if (!Number.isFinite(seconds) || seconds <= 0) seconds = DEFAULT_WAIT_S;
  return Math.min(MAX_WAIT_S, Math.ceil(seconds));
}

/**
 * MSAL's network calls through that client. A failure is thrown as an `AuthError` with one of the
 * codes above: MSAL rethrows its own errors as they are, and turns anything else into a bare
 * "network_error" that could not tell a timeout from a refused connection.
 */
export class EntraNetworkModule implements INetworkModule {
  readonly #http: Got;
  readonly #onBusy: ((retryAfterS: number) => void) | undefined;

  /**
   * @param onBusy told of a POST (the token endpoint) answered 429 or 5xx, with the wait it asked
   *   for: the exchange keeps away for that long and tells its callers when to come back.
   */
  constructor(http: Got, onBusy?: (retryAfterS: number) => void) {
    this.#http = http;
    this.#onBusy = onBusy;
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions = {}, timeout?: number): Promise<NetworkResponse<T>> {
    try {
      const response = await this.#http(url, {
        method,
        headers: options.headers ?? {},
        ...(options.body !== undefined && { body: options.body }),
        ...(timeout !== undefined && { timeout: { request: timeout } }),
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      if (method === 'POST' && (response.statusCode === 429 || response.statusCode >= 500)) this.#onBusy?.(retryAfterSeconds(headers['retry-after']));
      return { status: response.statusCode, headers, body: parseBody(response.body) as T };
    } catch (error) {
      // Only the kind of failure goes on: got's error holds the request, whose body carries the
      // caller's token (the assertion) and the gateway's secret.
      const timedOut = (error as { code?: unknown }).code === 'ETIMEDOUT';
      throw new AuthError(timedOut ? ENTRA_TIMEOUT : ENTRA_UNREACHABLE, timedOut ? 'Microsoft Entra ID did not answer in time.' : 'Microsoft Entra ID could not be reached.');
    }
  }
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}
