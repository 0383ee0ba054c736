import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A JSON answer. */
export function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** An HTML page: nothing of it runs but its form posts, and no other site may frame it. */
export function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'",
    'cache-control': 'no-store',
  });
  response.end(html);
}

/** A redirect (302), as Entra answers an authorization request or a sign-out. */
export function redirect(response: ServerResponse, location: string): void {
  response.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0 });
  response.end();
}

/** An OAuth 2.0 error as Entra answers it: 401 for `invalid_client`, 400 otherwise. */
export function oauthError(response: ServerResponse, error: string, aadsts: number, description: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}): void {
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

/** Text made safe inside HTML, an attribute's value included. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
