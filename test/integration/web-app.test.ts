import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WEB_APP_CONTENT_SECURITY_POLICY } from '../../src/server/http/web-app.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * The page the gateway serves at `/app/` with `WEB_APP_DIR`, from a folder made here that holds
 * what a careless build or deploy leaves beside the page: dotfiles and source maps.
 */

let dir: string;
let stack: Stack;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'web-app-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>page</title>');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'index.js'), 'console.log("page");');
  writeFileSync(join(dir, 'assets', 'index.js.map'), '{"version":3,"sources":["secret.ts"]}');
  writeFileSync(join(dir, '.env'), 'SECRET=1');
  mkdirSync(join(dir, '.git'));
  writeFileSync(join(dir, '.git', 'config'), '[core]');
  stack = await startStack({ env: { WEB_APP_DIR: dir } });
});
afterAll(async () => {
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string) => fetch(new URL(path, stack.url));

describe('the page at /app/', () => {
  it('serves the page with a Content-Security-Policy that forbids framing, nosniff and no referrer', async () => {
    const response = await get('/app/');

    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>page</title>');
    expect(response.headers.get('content-security-policy')).toBe(WEB_APP_CONTENT_SECURITY_POLICY);
    expect(WEB_APP_CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(WEB_APP_CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('serves the page’s scripts with the same headers', async () => {
    const response = await get('/app/assets/index.js');

    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toBe(WEB_APP_CONTENT_SECURITY_POLICY);
  });

  it.each(['/app/.env', '/app/.git/config', '/app/assets/../.env', '/app/%2eenv'])('never serves a dotfile (%s)', async (path) => {
    const response = await get(path);

    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await response.text()).not.toContain('SECRET');
  });

  it('never serves a source map left in the folder', async () => {
    const response = await get('/app/assets/index.js.map');

    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('secret.ts');
  });

  it('redirects /app to /app/', async () => {
    const response = await fetch(new URL('/app', stack.url), { redirect: 'manual' });

    expect([response.status, response.headers.get('location')]).toEqual([302, '/app/']);
  });

  it('answers /app/sign-in.json with no settings without sign-in, so the page shows no sign-in', async () => {
    const response = await get('/app/sign-in.json');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
  });

  it('adds none of the page’s headers to the GraphQL endpoint', async () => {
    const response = await fetch(stack.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBeNull();
  });
});
