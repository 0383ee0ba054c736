import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WEB_APP_CONTENT_SECURITY_POLICY } from '../../src/server/http/web-app.js';
import { startSignInStack, type SignInStack } from '../support/sign-in.js';

/**
 * The page at `/app/` with sign-in on (`AUTH_MODE=obo`) and its own app registration
 * (`WEB_APP_CLIENT_ID`): what MSAL.js in it is told, and the one widening of its
 * Content-Security-Policy that signing in needs.
 */

let dir: string;
let stack: SignInStack;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'web-app-sign-in-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>page</title>');
  stack = await startSignInStack({ env: { WEB_APP_DIR: dir, WEB_APP_CLIENT_ID: 'spa-client-id' } });
});
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the page at /app/ with sign-in', () => {
  it("tells the page its client id, the tenant's authority and the gateway's API scope at /app/sign-in.json, not cached", async () => {
    const response = await fetch(new URL('/app/sign-in.json', stack.url));

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      clientId: 'spa-client-id',
      authority: `${stack.entra.authorityHost}/${stack.entra.tenantId}`,
      scopes: [`api://${stack.entra.clientId}/access_as_user`],
    });
  });

  it('lets the page reach the authority (fetch and the silent-renewal frame) and frame its own redirect bridge, nothing more', async () => {
    const policy = (await fetch(new URL('/app/', stack.url))).headers.get('content-security-policy')!;
    const directives = Object.fromEntries(policy.split('; ').map((directive) => [directive.split(' ')[0], directive.split(' ').slice(1).join(' ')]));

    expect(directives).toEqual({
      ...Object.fromEntries(WEB_APP_CONTENT_SECURITY_POLICY.split('; ').map((directive) => [directive.split(' ')[0], directive.split(' ').slice(1).join(' ')])),
      'frame-ancestors': "'self'",
      'connect-src': `'self' ${stack.entra.authorityHost}`,
      'frame-src': `'self' ${stack.entra.authorityHost}`,
    });
  });
});
