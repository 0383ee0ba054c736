import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { runCompiled, type CompiledProcess } from '../support/process.js';

/**
 * The example page signing in with MSAL.js in Debian's Chromium, against `AUTH_MODE=obo npm run
 * demo`: the gateway in sign-in mode and the Entra simulator over HTTPS, as a person would use
 * them. The browser accepts the simulator's certificate by the CA file the demo names: Chromium
 * on Linux trusts only its NSS database, which needs certutil (not installed here) to add to, so
 * it is started with the flag that accepts certificates chained to this CA's key alone
 * (`--ignore-certificate-errors-spki-list`, the key read from the file), not every bad
 * certificate as `--ignore-certificate-errors` would.
 */

const CHROMIUM = '/usr/bin/chromium';
const JPEG = readFileSync(new URL('../../examples/images/contact.jpg', import.meta.url));

let demo: CompiledProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let pageUrl: string;
let authority: string;
let caFile: string;
/** Every URL the page, its frames and popups asked for. */
const requested: string[] = [];
/** Every address a frame of the page or a popup was at (the address bar, and the frames'). */
const addresses: string[] = [];
const popups: Page[] = [];
/** The statuses of the gateway's answers to /graphql, in order. */
const answered: number[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}. npm run test:browser needs Debian's chromium: apt-get install chromium, then run it again.`);
  demo = runCompiled('demo.js', { PORT: '0', AUTH_MODE: 'obo' });
  await demo.printed('Press Ctrl+C to stop.');
  pageUrl = /Open the example page: (\S+)/.exec(demo.output())![1]!;
  authority = /Entra ID simulator: (\S+)/.exec(demo.output())![1]!;
  caFile = /serves HTTPS with its own CA \([^)]*\): (\S+)/.exec(demo.output())![1]!;
  const spki = new X509Certificate(readFileSync(caFile)).publicKey.export({ type: 'spki', format: 'der' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps', `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`],
  });
  context = await browser.newContext();
  context.on('request', (request) => requested.push(request.url()));
  context.on('response', (response) => {
    if (response.url().endsWith('/graphql')) answered.push(response.status());
  });
  page = await context.newPage();
  page.on('framenavigated', (frame) => addresses.push(frame.url()));
  context.on('page', (opened) => {
    popups.push(opened);
    opened.on('framenavigated', (frame) => addresses.push(frame.url()));
  });
});

afterAll(async () => {
  await browser?.close();
  demo?.kill('SIGINT');
  await demo?.exited;
});

/** The Entra simulator's control API, trusting its CA from the file the demo names. */
function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const sent = https.request(new URL(`/_simulator/${path}`, authority), { method, ca: readFileSync(caFile), headers: text ? { 'content-type': 'application/json' } : {} }, (response) => {
      let answer = '';
      response.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, json: answer ? (JSON.parse(answer) as unknown) : undefined }));
    });
    sent.on('error', reject);
    sent.end(text);
  });
}

/** How many refresh token grants the simulator's token endpoint received. */
async function refreshGrants(): Promise<number> {
  return ((await control('GET', 'token-requests')).json as Array<{ grantType: string }>).filter((each) => each.grantType === 'refresh_token').length;
}

const rows = () => page.getByRole('list', { name: 'Contacts' }).getByRole('listitem');
const row = (name: string) => rows().filter({ has: page.getByText(name, { exact: true }) });

/** Signs in through the redirect as `name`, on the simulator's sign-in page. */
async function signInAs(name: string): Promise<void> {
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: `Sign in as ${name}` }).click();
}

async function upload(name: string): Promise<void> {
  await row(name).locator('input[type=file]').setInputFiles({ name: 'contact.jpg', mimeType: 'image/jpeg', buffer: JPEG });
  await page.getByText(`${name}'s picture is changed.`).waitFor();
}

describe('the example page signing in with MSAL.js against the Entra simulator', () => {
  it('shows a sign-in button, and asks nothing of the gateway, before sign-in', async () => {
    await page.goto(pageUrl);
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();

    expect(await rows().count()).toBe(0);
    expect(requested.filter((url) => url.endsWith('/graphql'))).toEqual([]);
  });

  it("signs in as a test user through the redirect: the user's name, sign-out, and the first 20 contacts", async () => {
    await signInAs('Adele Vance');

    await page.getByRole('navigation', { name: 'Account' }).getByText('Signed in as Adele Vance').waitFor();
    await rows().first().waitFor();
    expect(await rows().count()).toBe(20);
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
    expect(page.url()).toBe(pageUrl);
  });

  it('uploads a picture as the signed-in user', async () => {
    await upload('Ada Lovelace');

    expect(await row('Ada Lovelace').locator('img').count()).toBe(1);
  });

  it("keeps tokens out of the address bar and out of localStorage: MSAL's cache is in sessionStorage", async () => {
    const storage = await page.evaluate(() => {
      const scope = globalThis as unknown as { localStorage: { length: number; key(i: number): string; getItem(k: string): string }; sessionStorage: { length: number; key(i: number): string } };
      const local = Array.from({ length: scope.localStorage.length }, (_, i) => `${scope.localStorage.key(i)}=${scope.localStorage.getItem(scope.localStorage.key(i))}`);
      const session = Array.from({ length: scope.sessionStorage.length }, (_, i) => scope.sessionStorage.key(i));
      return { local, session };
    });

    expect(storage.local.filter((entry) => /token|eyJ/i.test(entry))).toEqual([]);
    expect(storage.session.some((key) => key.includes('|accesstoken|'))).toBe(true);
    expect(storage.session.some((key) => key.includes('|refreshtoken|'))).toBe(true);
    expect(addresses.length).toBeGreaterThan(3);
    // The code comes back to the redirect bridge (redirect.html) only, never to the page's address.
    expect(addresses.filter((address) => /[#?&](access_token|id_token|refresh_token)=/.test(address))).toEqual([]);
    expect(addresses.filter((address) => new URL(address).pathname === new URL(pageUrl).pathname && /[#?&]code=/.test(address))).toEqual([]);
    expect(addresses.some((address) => address.startsWith(new URL('redirect.html', pageUrl).href))).toBe(true);
  });

  it('signs out through the authority and comes back to the sign-in button', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Account' }).count()).toBe(0);
    expect(await rows().count()).toBe(0);
  });

  it('meets a claims challenge set for the user with one interactive round trip (a popup), then lists and uploads', async () => {
    expect((await control('POST', 'claims-challenges', { user: 'megan.bowen@contoso.example' })).status).toBe(201);
    const answeredBefore = answered.length;
    await signInAs('Megan Bowen');

    const popup = await context.waitForEvent('page');
    await popup.getByRole('button', { name: 'Sign in as Megan Bowen' }).click();
    await rows().first().waitFor();
    await upload('Adele Goldberg');

    expect(popups).toHaveLength(1);
    expect(await rows().count()).toBe(20);
    // One refusal (the list, challenged), then every answer a success: the list sent again, the upload.
    expect(answered.slice(answeredBefore).filter((status) => status === 401)).toHaveLength(1);
    expect(answered.slice(answeredBefore).filter((status) => status === 200).length).toBeGreaterThanOrEqual(2);
  });

  it('renews an access token about to expire silently, with the refresh token, staying on the page', async () => {
    // Tokens of 60 s from now on: MSAL renews a token within 5 minutes of its expiry, so each
    // request after this sign-in finds its token expired and renews it.
    expect((await control('DELETE', 'claims-challenges')).status).toBe(204);
    expect((await control('PUT', 'access-token-lifetime', { seconds: 60 })).status).toBe(204);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInAs('Alex Wilber');
    await rows().first().waitFor();
    const before = await refreshGrants();
    const atAuthority = addresses.filter((address) => address.startsWith(authority)).length;
    const graphqlBefore = requested.filter((url) => url.endsWith('/graphql')).length;

    await upload('Anita Borg');

    // One renewal per request the page sent.
    const sent = requested.filter((url) => url.endsWith('/graphql')).length - graphqlBefore;
    expect(sent).toBeGreaterThan(0);
    expect(await refreshGrants()).toBe(before + sent);
    expect(addresses.filter((address) => address.startsWith(authority)).length).toBe(atAuthority);
    expect(page.url()).toBe(pageUrl);
    expect(popups).toHaveLength(1);
  });

  it('made requests to its own origin (the gateway) and the authority only', () => {
    const allowed = new Set([new URL(pageUrl).origin, new URL(authority).origin]);

    expect(requested.filter((url) => !url.startsWith('data:') && !allowed.has(new URL(url).origin))).toEqual([]);
  });
});
