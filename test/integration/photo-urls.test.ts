import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { postGraphQL } from '../support/graphql.js';
import { twoColourImage } from '../support/images.js';
import { startStack, type Stack } from '../support/stack.js';
import { postUpload, UPLOAD_PHOTO } from '../support/upload.js';

/** ProfilePhoto.url and the gateway's /photos route, over real sockets. */

const SECRET = 'photo-url-test-secret-of-32-characters-at-least';
const TOKEN = 'url-token';
const ids = { invitationId: 'inv-url', contactId: 'contact-url' };
const URLS = `query Photo($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { thumbnail: url(size: 48) full: url dataUrl(size: 48) } }`;

async function givenAPicture(stack: Stack, contact = ids): Promise<Buffer> {
  const png = await (await twoColourImage(300, 200)).png().toBuffer();
  const result = await postUpload(stack.url, UPLOAD_PHOTO, contact, png, { token: TOKEN });
  expect(result.body.errors).toBeUndefined();
  return stack.simulator.storedImage(TOKEN, contact.invitationId, contact.contactId)!;
}

async function urlsOf(stack: Stack, contact = ids): Promise<{ thumbnail: string; full: string; dataUrl: string }> {
  const result = await postGraphQL(stack.url, URLS, contact, { token: TOKEN });
  expect(result.body.errors).toBeUndefined();
  return result.body.data!['contactPhoto'] as { thumbnail: string; full: string; dataUrl: string };
}

const get = (stack: Stack, url: string, headers: Record<string, string> = {}) => fetch(new URL(url, stack.url), { headers });

/** A URL as the gateway signs it (the test knows PHOTO_URL_SECRET), for any file and expiry. */
function signed(file: string, exp: number): string {
  return `/photos/${file}?exp=${exp}&sig=${createHmac('sha256', SECRET).update(`${file}\n${exp}`).digest('base64url')}`;
}

describe('ProfilePhoto.url', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_URL_SECRET: SECRET, PHOTO_URL_TTL_S: '3600', CORS_ORIGINS: 'https://app.example' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  it('names the bytes by their SHA-256 on the gateway, and serves them with the caching and safety headers, CORS as /graphql', async () => {
    await givenAPicture(stack);
    const { thumbnail, dataUrl } = await urlsOf(stack);
    const thumbnailBytes = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
    const from = stack.simulator.requests.length;

    const response = await get(stack, thumbnail, { origin: 'https://app.example' });
    const body = Buffer.from(await response.arrayBuffer());

    const hash = createHash('sha256').update(thumbnailBytes).digest('base64url');
    expect(thumbnail).toMatch(new RegExp(`^/photos/[A-Za-z0-9_-]{22}/${hash}\\.jpg\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    expect(response.status).toBe(200);
    expect(body.equals(thumbnailBytes)).toBe(true);
    const maxAge = Number(/^private, max-age=(\d+), immutable$/.exec(response.headers.get('cache-control')!)![1]);
    expect(maxAge).toBeGreaterThanOrEqual(1800 - 5);
    expect(maxAge).toBeLessThanOrEqual(3600);
    expect(response.headers.get('etag')).toBe(`"${hash}"`);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(stack.simulator.requests.length).toBe(from);
  });

  it("serves the full-size picture as Graph has it, its Content-Type from its bytes", async () => {
    const picture = await givenAPicture(stack);
    const { full } = await urlsOf(stack);

    const response = await get(stack, full);

    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(picture)).toBe(true);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
  });

  it('gives the same picture the same URL on the next query (the browser keeps it), and a changed picture another', async () => {
    await givenAPicture(stack);
    const first = await urlsOf(stack);
    const again = await urlsOf(stack);
    await postUpload(stack.url, UPLOAD_PHOTO, ids, await (await twoColourImage(200, 200)).png().toBuffer(), { token: TOKEN });

    const changed = await urlsOf(stack);

    expect(again.thumbnail).toBe(first.thumbnail);
    expect(changed.thumbnail).not.toBe(first.thumbnail);
    expect(changed.full).not.toBe(first.full);
  });

  it('answers 304 to If-None-Match with its ETag', async () => {
    await givenAPicture(stack);
    const { thumbnail } = await urlsOf(stack);
    const etag = (await get(stack, thumbnail)).headers.get('etag')!;

    const response = await get(stack, thumbnail, { 'if-none-match': etag });

    expect(response.status).toBe(304);
    expect(response.headers.get('etag')).toBe(etag);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it.each([
    ['a tampered signature', (url: string) => url.replace(/sig=(.)/, (_match, first: string) => `sig=${first === 'A' ? 'B' : 'A'}`)],
    ['a tampered expiry', (url: string) => url.replace(/exp=(\d+)/, (_match, exp: string) => `exp=${Number(exp) + 1000}`)],
    ['another hash under the same signature', (url: string) => url.replace(/\/([A-Za-z0-9_-]{43})\.jpg/, `/${'A'.repeat(43)}.jpg`)],
    ['no signature', (url: string) => url.replace(/&sig=.*$/, '')],
  ])('answers 404 for %s, without any Graph call', async (_case, tamper) => {
    await givenAPicture(stack);
    const { thumbnail } = await urlsOf(stack);
    const from = stack.simulator.requests.length;

    const response = await get(stack, tamper(thumbnail));

    expect(response.status).toBe(404);
    expect(response.headers.get('etag')).toBeNull();
    expect(stack.simulator.requests.length).toBe(from);
  });

  it('answers 404 for a well-signed URL whose hash the gateway does not keep, and for one already expired', async () => {
    await givenAPicture(stack);
    const { thumbnail } = await urlsOf(stack);
    const file = /^\/photos\/([^?]+)\?/.exec(thumbnail)![1]!;
    const tag = file.split('/')[0]!;

    const unknown = await get(stack, signed(`${tag}/${'B'.repeat(43)}.jpg`, Date.now() + 60_000));
    const expired = await get(stack, signed(file, Date.now() - 1));
    const valid = await get(stack, signed(file, Date.now() + 60_000));

    expect([unknown.status, expired.status, valid.status]).toEqual([404, 404, 200]);
  });

  it("is null for a contact without a picture, and refuses a size that is not one of Outlook's without reading the picture", async () => {
    await givenAPicture(stack);
    const none = await postGraphQL(stack.url, URLS, { invitationId: 'inv-url', contactId: 'no-picture' }, { token: TOKEN });
    const from = stack.simulator.requests.length;
    const refused = await postGraphQL(stack.url, 'query P($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { url(size: 50) } }', ids, {
      token: TOKEN,
    });

    expect(none.body).toEqual({ data: { contactPhoto: null } });
    expect(refused.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'size' });
    expect(stack.simulator.requests.slice(from).filter((request) => request.url.endsWith('$value'))).toEqual([]);
  });
});

describe('ProfilePhoto.url past PHOTO_URL_TTL_S', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_URL_TTL_S: '1' } });
  });
  afterAll(() => stack.close());

  it('answers 404 once the URL has expired', async () => {
    await givenAPicture(stack);
    const { thumbnail } = await urlsOf(stack);
    const before = await get(stack, thumbnail);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const from = stack.simulator.requests.length;

    const after = await get(stack, thumbnail);

    expect([before.status, after.status]).toEqual([200, 404]);
    expect(stack.simulator.requests.length).toBe(from);
  });
});

describe('ProfilePhoto.url in production without PHOTO_URL_SECRET', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { NODE_ENV: 'production' } });
  });
  afterAll(() => stack.close());

  it('answers an error naming the setting, and a warning at start-up', async () => {
    await givenAPicture(stack);

    const result = await postGraphQL(stack.url, 'query P($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { id url(size: 48) } }', ids, { token: TOKEN });

    expect(result.body.errors![0]).toMatchObject({ path: ['contactPhoto', 'url'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(result.body.errors![0]!.message).toMatch(/PHOTO_URL_SECRET/);
    expect(stack.logs.entries().some((entry) => entry['level'] === 40 && String(entry['msg']).includes('PHOTO_URL_SECRET'))).toBe(true);
  });
});
