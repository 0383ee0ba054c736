import type { ServerResponse } from 'node:http';
import { oauthError, send } from './http-answers.js';

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

/** The fault's answer: an HTTP status, or an OAuth error as Entra sends it. */
export function answerFault(response: ServerResponse, fault: EntraFault): void {
  const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
  if (fault.error === undefined) {
    return send(response, fault.status ?? 500, { error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred.' }, headers);
  }
  const aadsts = fault.aadsts ?? (fault.suberror === 'consent_required' ? 65001 : fault.error === 'interaction_required' ? 50076 : fault.error === 'unauthorized_client' ? 700016 : 50013);
  oauthError(response, fault.error, aadsts, 'A simulated error.', { ...(fault.suberror && { suberror: fault.suberror }), ...(fault.claims && { claims: fault.claims }) }, headers);
}
