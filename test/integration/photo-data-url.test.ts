import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { postGraphQL } from '../support/graphql.js';
import { RED, near, pixelAt, twoColourImage } from '../support/images.js';
import { metric } from '../support/metrics.js';
import { UPLOAD_PHOTO, postUpload } from '../support/upload.js';
import { startStack, type Stack } from '../support/stack.js';

/** ProfilePhoto.dataUrl over real sockets, against pictures uploaded through the gateway. */

const TOKEN = 'data-url-token';
const ids = { invitationId: 'inv-data-url', contactId: 'contact-data-url' };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { GRAPH_MAX_RETRIES: '0' } });
});
afterAll(() => stack.close());
beforeEach(() => stack.simulator.reset());

const query = (selection: string) =>
  postGraphQL(stack.url, `query Photo($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { ${selection} } }`, ids, {
    token: TOKEN,
  });

/** Uploads a 600 x 400 picture (red left half) for `ids`; answers what Graph stored. */
async function givenAPicture(): Promise<Buffer> {
  const result = await postUpload(stack.url, UPLOAD_PHOTO, ids, await (await twoColourImage(600, 400)).png().toBuffer(), { token: TOKEN });
  expect(result.body.errors).toBeUndefined();
  return stack.simulator.storedImage(TOKEN, ids.invitationId, ids.contactId)!;
}

function decode(dataUrl: unknown): { contentType: string; bytes: Buffer } {
  const match = /^data:([^;,]+);base64,([A-Za-z0-9+/=]+)$/.exec(String(dataUrl));
  if (!match) throw new Error(`Not a base64 data: URL: ${String(dataUrl).slice(0, 60)}`);
  return { contentType: match[1]!, bytes: Buffer.from(match[2]!, 'base64') };
}

describe('ProfilePhoto.dataUrl', () => {
  it("without size answers Graph's bytes unchanged, with Graph's content type, from GET .../photo/$value read in the same batch as the metadata", async () => {
    const picture = await givenAPicture();
    const before = stack.simulator.requests.length;

    const result = await query('id dataUrl');

    const photo = result.body.data!['contactPhoto'] as { id: string; dataUrl: string };
    expect(photo.id).toBe('600X400');
    expect(decode(photo.dataUrl)).toEqual({ contentType: 'image/jpeg', bytes: picture });
    const received = stack.simulator.requests.slice(before);
    const reads = received.filter((request) => request.batchId !== undefined);
    expect(reads.map((request) => `${request.method} ${request.url.endsWith('/$value') ? '$value' : 'photo'}`).sort()).toEqual(['GET $value', 'GET photo']);
    expect(new Set(reads.map((request) => request.batchId)).size).toBe(1);
    expect(received.filter((request) => request.batchId === undefined).map((request) => `${request.method} ${request.url}`)).toEqual(['POST /beta/$batch']);
  });

  it.each([48, 96, 648])('with size %i answers a JPEG whose longer side is at most that', async (size) => {
    await givenAPicture();

    const result = await query(`dataUrl(size: ${size})`);

    const { contentType, bytes } = decode((result.body.data!['contactPhoto'] as { dataUrl: string }).dataUrl);
    const { width, height, format } = await sharp(bytes).metadata();
    expect(contentType).toBe('image/jpeg');
    expect(format).toBe('jpeg');
    // 600 x 400 fits in 648 already: never scaled up.
    expect([width, height]).toEqual(size >= 600 ? [600, 400] : [size, Math.round((size * 400) / 600)]);
    expect(near(await pixelAt(bytes, 2, Math.floor(height! / 2)), RED)).toBe(true);
  });

  it('a 96 px thumbnail is a few KB', async () => {
    await givenAPicture();

    const result = await query('dataUrl(size: 96)');

    expect(decode((result.body.data!['contactPhoto'] as { dataUrl: string }).dataUrl).bytes.length).toBeLessThan(5 * 1024);
  });

  it("reads Graph's picture once per photo, however many dataUrl fields select it", async () => {
    await givenAPicture();
    const before = stack.simulator.requests.length;

    const result = await query('a: dataUrl b: dataUrl(size: 48) c: dataUrl(size: 48) d: dataUrl(size: 96)');

    expect(result.body.errors).toBeUndefined();
    const values = stack.simulator.requests.slice(before).filter((request) => request.url.endsWith('/$value'));
    expect(values).toHaveLength(1);
    const photo = result.body.data!['contactPhoto'] as Record<string, string>;
    expect(photo['b']).toBe(photo['c']);
  });

  it('makes each thumbnail size once per photo, however many fields ask for it', async () => {
    await givenAPicture();
    const thumbnails = () => metric(stack.url, 'photo_processing_seconds_count{operation="thumbnail",format="jpeg"}');
    const before = await thumbnails();

    const result = await query('b: dataUrl(size: 48) c: dataUrl(size: 48) d: dataUrl(size: 96) e: dataUrl(size: 48)');

    expect(result.body.errors).toBeUndefined();
    expect((await thumbnails()) - before).toBe(2);
  });

  it.each([
    ['image/*', 'png'],
    ['image/jpeg', 'png'],
    ['image/png', 'jpeg'],
  ])('labels a picture Graph serves as %s by what its bytes are (%s)', async (header, format) => {
    await givenAPicture();
    const bytes = await (await twoColourImage(60, 40)).toFormat(format as 'png' | 'jpeg').toBuffer();
    stack.simulator.fail({ method: 'GET', value: true, status: 200, body: { raw: bytes, contentType: header } });

    const result = await query('dataUrl');

    expect(result.body.errors).toBeUndefined();
    expect(decode((result.body.data!['contactPhoto'] as { dataUrl: string }).dataUrl)).toEqual({ contentType: `image/${format}`, bytes });
  });

  it('answers null when the contact has no picture (404)', async () => {
    // The metadata exists (a PATCH made it), the picture does not.
    await postGraphQL(stack.url, 'mutation { updateContactPhoto(invitationId: "inv-data-url", contactId: "contact-data-url", input: { height: 1, width: 1 }) { id } }', {}, { token: TOKEN });

    const result = await query('id dataUrl');

    expect(result.body).toEqual({ data: { contactPhoto: { id: '1X1', dataUrl: null } } });
  });

  it.each([[0], [100], [-48], [1000]])('refuses size %i with BAD_USER_INPUT before any Graph call for it', async (size) => {
    await givenAPicture();
    const before = stack.simulator.requests.length;

    const result = await query(`id dataUrl(size: ${size})`);

    expect(result.body.data).toEqual({ contactPhoto: { id: '600X400', dataUrl: null } });
    expect(result.body.errors![0]).toMatchObject({
      message: "size must be one of Outlook's photo sizes: 48, 64, 96, 120, 240, 360, 432, 504, 648.",
      path: ['contactPhoto', 'dataUrl'],
      extensions: { code: 'BAD_USER_INPUT', argument: 'size' },
    });
    expect(stack.simulator.requests.slice(before).filter((request) => request.url.endsWith('/$value'))).toHaveLength(0);
  });

  it.each([
    ["a proxy's HTML page with status 200", { status: 200, body: 'html' as const }, /Content-Type is "text\/html"/],
    ['bytes that are not an image, labelled image/jpeg', { status: 200, body: { raw: 'GIF? no: plain text', contentType: 'image/jpeg' } }, /not an image/],
    ['an empty image/png', { status: 200, body: { raw: '', contentType: 'image/png' } }, /an empty photo/],
  ])('answers %s as BAD_GATEWAY, never as a data: URL', async (_case, fault, message) => {
    await givenAPicture();
    stack.simulator.fail({ method: 'GET', value: true, ...fault });

    const result = await query('id dataUrl');

    expect(result.body.data).toEqual({ contactPhoto: { id: '600X400', dataUrl: null } });
    expect(result.body.errors![0]).toMatchObject({ message: expect.stringMatching(message), extensions: { code: 'BAD_GATEWAY' } });
    expect(JSON.stringify(result.body)).not.toContain('data:text');
  });

  it("maps Graph's errors on the picture to the usual codes", async () => {
    await givenAPicture();
    stack.simulator.fail({ method: 'GET', value: true, status: 403 });

    const result = await query('dataUrl');

    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', upstream: { status: 403 } });
  });

  it('answers UNAUTHENTICATED without a token', async () => {
    const result = await postGraphQL(stack.url, '{ contactPhoto(invitationId: "i", contactId: "c") { dataUrl } }');

    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('is there on the answer of an upload too', async () => {
    const jpeg = await (await twoColourImage(300, 200)).jpeg().toBuffer();

    const result = await postUpload(
      stack.url,
      'mutation Up($invitationId: ID!, $contactId: ID!, $file: Upload!) { uploadContactPhoto(invitationId: $invitationId, contactId: $contactId, file: $file) { width thumbnail: dataUrl(size: 48) } }',
      ids,
      jpeg,
      { token: TOKEN },
    );

    const photo = result.body.data!['uploadContactPhoto'] as { width: number; thumbnail: string };
    expect(photo.width).toBe(300);
    expect((await sharp(decode(photo.thumbnail).bytes).metadata()).width).toBe(48);
  });
});
