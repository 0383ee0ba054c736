import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { errorCode, postGraphQL } from '../support/graphql.js';
import { sendRawRequest } from '../support/local-server.js';
import { BLUE, RED, near, noiseJpeg, pixelAt, pngBomb, twoColourImage } from '../support/images.js';
import { UPLOAD_PHOTO, postUpload, type UploadOptions } from '../support/upload.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * uploadContactPhoto over real sockets: images made here with sharp, sent as a browser sends
 * them (multipart FormData), checked as the simulator stored them, i.e. as Graph would get them.
 */

const TOKEN = 'upload-token';
const ids = { invitationId: 'inv-upload', contactId: 'contact-upload' };
const HEIC = readFileSync(new URL('../fixtures/images/red-blue-64x48.heic', import.meta.url));
/** 64 x 64 in Display P3 with its ICC profile: a HEIC whose pixels are scaled before they are tagged. */
const HEIC_WITH_PROFILE = readFileSync(new URL('../fixtures/images/p3-200-80-60.heic', import.meta.url));

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { GRAPH_MAX_RETRIES: '1' } });
});
afterAll(() => stack.close());
beforeEach(() => stack.simulator.reset());

const upload = (file: Buffer, options: UploadOptions = {}, variables: Record<string, unknown> = ids) =>
  postUpload(stack.url, UPLOAD_PHOTO, variables, file, { token: TOKEN, ...options });

/** What Graph was sent: the simulator's stored picture for `ids`. */
function stored(): Buffer {
  const bytes = stack.simulator.storedImage(TOKEN, ids.invitationId, ids.contactId);
  if (bytes === undefined) throw new Error('Graph has no picture for the contact.');
  return bytes;
}

describe('uploadContactPhoto', () => {
  it('sends Graph a JPEG with PUT .../photo/$value, then answers the metadata Graph has', async () => {
    const jpeg = await (await twoColourImage(320, 240)).jpeg().toBuffer();

    const result = await upload(jpeg);

    expect(result.body).toEqual({ data: { uploadContactPhoto: { id: '320X240', height: 240, width: 320 } } });
    const [put, get] = stack.simulator.requests;
    expect(put).toMatchObject({ method: 'PUT', url: '/beta/invitations/inv-upload/invitedUser/contacts/contact-upload/photo/$value' });
    expect(put!.headers).toMatchObject({ 'content-type': 'image/jpeg', 'content-length': String(put!.bytes.length), authorization: `Bearer ${TOKEN}` });
    expect(get).toMatchObject({ method: 'GET', url: '/beta/invitations/inv-upload/invitedUser/contacts/contact-upload/photo' });
    expect((await sharp(stored()).metadata()).format).toBe('jpeg');
  });

  it('applies the EXIF orientation: a photo taken with the phone turned arrives upright', async () => {
    // Stored 400 x 300 with red on the left; orientation 6 means "turn 90 degrees clockwise to view".
    const sideways = await (await twoColourImage(400, 300)).jpeg().withMetadata({ orientation: 6 }).toBuffer();

    const result = await upload(sideways);

    expect(result.body.data).toEqual({ uploadContactPhoto: { id: '300X400', height: 400, width: 300 } });
    const upright = stored();
    expect(near(await pixelAt(upright, 150, 20), RED)).toBe(true);
    expect(near(await pixelAt(upright, 150, 380), BLUE)).toBe(true);
    expect((await sharp(upright).metadata()).orientation).toBeUndefined();
  });

  it('strips EXIF, GPS, XMP and ICC metadata', async () => {
    const tagged = await (await twoColourImage(200, 100))
      .withIccProfile('p3')
      .withExif({
        IFD0: { Make: 'PhoneMaker', Model: 'Phone 15', Copyright: 'Someone' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' },
      })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Secret City"/></rdf:RDF></x:xmpmeta>')
      .jpeg()
      .toBuffer();
    const before = await sharp(tagged).metadata();
    expect([before.exif !== undefined, before.xmp !== undefined, before.icc !== undefined]).toEqual([true, true, true]);
    expect(tagged.includes('PhoneMaker')).toBe(true);

    await upload(tagged);

    const after = await sharp(stored()).metadata();
    expect({ exif: after.exif, xmp: after.xmp, icc: after.icc, iptc: after.iptc }).toEqual({ exif: undefined, xmp: undefined, icc: undefined, iptc: undefined });
    for (const text of ['PhoneMaker', 'GPS', 'Secret City', 'Exif']) expect(stored().includes(text)).toBe(false);
  });

  it('puts transparency on white, not black', async () => {
    const transparent = await sharp({ create: { width: 60, height: 48, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();

    await upload(transparent);

    expect(near(await pixelAt(stored(), 30, 24), { r: 255, g: 255, b: 255 }, 3)).toBe(true);
  });

  it('scales a large photo down to 648 px on its longer side, keeping its shape', async () => {
    const large = await (await twoColourImage(4000, 3000)).jpeg().toBuffer();

    const result = await upload(large);

    expect(result.body.data).toEqual({ uploadContactPhoto: { id: '648X486', height: 486, width: 648 } });
  });

  it('never scales a small photo up', async () => {
    const small = await (await twoColourImage(100, 80)).jpeg().toBuffer();

    const result = await upload(small);

    expect(result.body.data).toEqual({ uploadContactPhoto: { id: '100X80', height: 80, width: 100 } });
  });

  it('never scales a small HEIC up, one with a colour profile included', async () => {
    const result = await upload(HEIC_WITH_PROFILE);

    expect(result.body.data).toEqual({ uploadContactPhoto: { id: '64X64', height: 64, width: 64 } });
  });

  it('answers the new picture in a dataUrl after an upload, though the same operation read the old one before it', async () => {
    await upload(await (await twoColourImage(100, 80)).jpeg().toBuffer());
    const old = stored();

    const result = await postUpload(
      stack.url,
      `mutation Replace($invitationId: ID!, $contactId: ID!, $file: Upload!) {
        before: updateContactPhoto(invitationId: $invitationId, contactId: $contactId, input: { height: 80 }) { dataUrl }
        after: uploadContactPhoto(invitationId: $invitationId, contactId: $contactId, file: $file) { dataUrl }
      }`,
      ids,
      await (await twoColourImage(120, 90, BLUE, RED)).jpeg().toBuffer(),
      { token: TOKEN },
    );

    expect(result.body.errors).toBeUndefined();
    expect(result.body.data).toEqual({
      before: { dataUrl: `data:image/jpeg;base64,${old.toString('base64')}` },
      after: { dataUrl: `data:image/jpeg;base64,${stored().toString('base64')}` },
    });
    expect(stored().equals(old)).toBe(false);
  });

  it.each([
    ['PNG', () => twoColourImage(64, 48).then((image) => image.png().toBuffer())],
    ['WebP', () => twoColourImage(64, 48).then((image) => image.webp({ lossless: true }).toBuffer())],
    ['AVIF', () => twoColourImage(64, 48).then((image) => image.avif({ quality: 90 }).toBuffer())],
    ['HEIC (made with heif-enc, as an iPhone writes it)', () => Promise.resolve(HEIC)],
  ])('reads %s from its bytes, whatever type it is declared as', async (_format, make) => {
    const file = await make();

    const result = await upload(file, { type: 'application/octet-stream', filename: 'upload.bin' });

    expect(result.body.data).toEqual({ uploadContactPhoto: { id: '64X48', height: 48, width: 64 } });
    expect(near(await pixelAt(stored(), 8, 24), RED)).toBe(true);
    expect(near(await pixelAt(stored(), 56, 24), BLUE)).toBe(true);
  });

  it("takes a GIF's first frame", async () => {
    const frames = [RED, BLUE].map((colour) => sharp({ create: { width: 48, height: 48, channels: 3, background: colour } }).png().toBuffer());
    const animated = await sharp(await Promise.all(frames), { join: { animated: true } }).gif().toBuffer();
    expect((await sharp(animated).metadata()).pages).toBe(2);

    await upload(animated, { type: 'image/gif' });

    expect(near(await pixelAt(stored(), 24, 24), RED)).toBe(true);
  });

  it('logs and counts what it did, never the content', async () => {
    const png = await (await twoColourImage(64, 48)).png().toBuffer();

    await upload(png);

    const line = stack.logs.entries('graphql operation').at(-1);
    expect(line).toMatchObject({
      rootField: 'uploadContactPhoto',
      code: 'OK',
      photo: { inputFormat: 'png', bytesIn: png.length, bytesOut: stored().length, processingSeconds: expect.any(Number) },
    });
    const metrics = await (await fetch(`${new URL(stack.url).origin}/metrics`)).text();
    expect(metrics).toMatch(/^photo_processing_seconds_count\{operation="upload",format="png"\} [1-9]/m);
    expect(metrics).toMatch(/^photo_bytes_total\{operation="upload",direction="in"\} [1-9]/m);
    // 63 bytes, a multiple of 3: their base64 is a prefix of the whole file's (64 bytes would end
    // in padding that no longer base64 text contains, and the check could never fail).
    expect(stack.logs.lines.join('\n')).not.toContain(png.subarray(0, 63).toString('base64'));
  });

  it('retries a 503 with the very same bytes', async () => {
    const jpeg = await (await twoColourImage(120, 90)).jpeg().toBuffer();
    stack.simulator.fail({ method: 'PUT', status: 503, retryAfter: '0' });

    const result = await upload(jpeg);

    expect(result.body.errors).toBeUndefined();
    const puts = stack.simulator.requests.filter((request) => request.method === 'PUT');
    expect(puts).toHaveLength(2);
    expect(puts[1]!.bytes.equals(puts[0]!.bytes)).toBe(true);
    expect(puts[0]!.bytes.length).toBeGreaterThan(0);
  });

  it('answers BAD_GATEWAY when Graph accepts the PUT and then has no photo for the contact', async () => {
    stack.simulator.fail({ method: 'GET', value: false, status: 404 });

    const result = await upload(await (await twoColourImage(64, 48)).jpeg().toBuffer());

    expect(result.body.data).toBeNull();
    expect(result.body.errors![0]).toMatchObject({
      message: 'Microsoft Graph accepted the photo but then had none for this contact.',
      extensions: { code: 'BAD_GATEWAY' },
    });
    expect(stack.simulator.requests.map((request) => request.method)).toEqual(['PUT', 'GET']);
  });

  it("answers Graph's 413 as PAYLOAD_TOO_LARGE", async () => {
    stack.simulator.fail({ method: 'PUT', status: 413, code: 'requestTooLarge', message: 'The photo is too large.' });

    const result = await upload(await (await twoColourImage(64, 48)).jpeg().toBuffer());

    expect(result.body.data).toBeNull();
    expect(result.body.errors![0]).toMatchObject({ message: 'The photo is too large.', extensions: { code: 'PAYLOAD_TOO_LARGE', upstream: { status: 413 } } });
  });
});

/** The HEIC fixture with its coded image (the `mdat` box's content) zeroed: the header still reads, as 64 x 48. */
async function corruptHeicData(): Promise<Buffer> {
  const bytes = Buffer.from(HEIC);
  bytes.fill(0, bytes.indexOf('mdat') + 4);
  expect((await sharp(bytes).metadata()).width).toBe(64);
  return bytes;
}

describe('uploadContactPhoto refuses what it cannot use, with no Graph call', () => {
  const acceptedFormats = /JPEG, PNG, GIF, WebP, AVIF or HEIC\/HEIF/;

  it.each([
    ['a text file', async () => Buffer.from('name,phone\nAda,123\n'), /not an image the gateway reads/],
    ['an HTML page', async () => Buffer.from('<!doctype html><html><body>hi</body></html>'), /not an image the gateway reads/],
    ['an empty file', async () => Buffer.alloc(0), /The file is empty/],
    ['a truncated JPEG (its first half)', async () => noiseJpeg(400, 300).then((jpeg) => jpeg.subarray(0, jpeg.length / 2)), /truncated or corrupt/],
    ['a JPEG whose data is garbage', async () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x5a)]), /truncated or corrupt/],
    ['a truncated HEIC', async () => HEIC.subarray(0, 400), /truncated or corrupt/],
    ['a HEIC whose header reads but whose image data is garbage', async () => corruptHeicData(), /HEIC image could not be decoded/],
  ])('%s is BAD_USER_INPUT naming the accepted formats', async (_case, make, message) => {
    const result = await upload(await make());

    expect(result.status).toBe(200);
    expect(result.body.data).toBeNull();
    expect(result.body.errors![0]).toMatchObject({ message: expect.stringMatching(message), extensions: { code: 'BAD_USER_INPUT', argument: 'file' } });
    expect(result.body.errors![0]!.message).toMatch(acceptedFormats);
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it.each([
    ['an image of 1 x 1 pixels (Graph takes 1x1 to mean no photo)', () => sharp({ create: { width: 1, height: 1, channels: 3, background: RED } }).png().toBuffer(), '1 x 1'],
    ['an image 47 pixels high', () => twoColourImage(400, 47).then((image) => image.jpeg().toBuffer()), '400 x 47'],
  ])('%s is BAD_USER_INPUT: Outlook\'s smallest photo is 48 px', async (_case, make, size) => {
    const result = await upload(await make());

    expect(result.body.errors![0]).toMatchObject({
      message: `The image is ${size} pixels: a contact photo needs at least 48 pixels on its shorter side.`,
      extensions: { code: 'BAD_USER_INPUT', argument: 'file' },
    });
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('refuses a decompression bomb from its header, before decoding it', async () => {
    // 20,000 x 20,000 pixels claimed in 70 bytes: decoding it would take 1.2 GB.
    const bomb = pngBomb(20_000, 20_000);
    const started = performance.now();

    const result = await upload(bomb);

    expect(result.body.errors![0]).toMatchObject({
      message: 'The image is 20000 x 20000 pixels, over the limit of 50 megapixels.',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(stack.simulator.requests).toHaveLength(0);
    // Refused from the header: decoding would take minutes, not this.
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('answers UNAUTHENTICATED without a token, before any image work', async () => {
    const metricsBefore = await (await fetch(`${new URL(stack.url).origin}/metrics`)).text();

    const result = await upload(await (await twoColourImage(64, 48)).webp().toBuffer(), { token: undefined });

    expect(errorCode(result)).toBe('UNAUTHENTICATED');
    expect(stack.simulator.requests).toHaveLength(0);
    const metricsAfter = await (await fetch(`${new URL(stack.url).origin}/metrics`)).text();
    const webpCount = (text: string) => /^photo_processing_seconds_count\{operation="upload",format="webp"\} (\d+)/m.exec(text)?.[1] ?? '0';
    expect(webpCount(metricsAfter)).toBe(webpCount(metricsBefore));
  });

  it.each([
    ['..', { ...ids, contactId: '..' }, 'contactId'],
    ['an empty invitationId', { ...ids, invitationId: '' }, 'invitationId'],
  ])('answers BAD_USER_INPUT for the id %s', async (_case, variables, argument) => {
    const result = await upload(await (await twoColourImage(64, 48)).jpeg().toBuffer(), {}, variables);

    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('refuses a multipart request without the preflight header (CSRF), 400, before reading it', async () => {
    const result = await upload(await (await twoColourImage(64, 48)).jpeg().toBuffer(), { preflight: false });

    expect(result.status).toBe(400);
    expect(result.body.errors![0]).toMatchObject({ message: expect.stringMatching(/Cross-Site Request Forgery/), extensions: { code: 'BAD_REQUEST' } });
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('answers that refusal from the headers alone: a 20 MB body that never comes is not waited for', async () => {
    const port = Number(new URL(stack.url).port);
    const head = ['POST /graphql HTTP/1.1', 'content-type: multipart/form-data; boundary=x', `authorization: Bearer ${TOKEN}`];

    const answer = await Promise.race([
      sendRawRequest(port, head, '', 20_000_000),
      new Promise<'waited for the body'>((resolve) => setTimeout(() => resolve('waited for the body'), 5000).unref()),
    ]);

    expect(answer).toMatchObject({ status: 400, headers: { connection: 'close' } });
  });

  it('accepts x-apollo-operation-name as the preflight header, as Apollo does', async () => {
    const result = await upload(await (await twoColourImage(64, 48)).jpeg().toBuffer(), {
      preflight: false,
      headers: { 'x-apollo-operation-name': 'UploadContactPhoto' },
    });

    expect(result.body.errors).toBeUndefined();
  });

  it('refuses two files in one request', async () => {
    const jpeg = await (await twoColourImage(64, 48)).jpeg().toBuffer();
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: UPLOAD_PHOTO, variables: { ...ids, file: null } }));
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', new Blob([jpeg]), 'a.jpg');
    form.append('1', new Blob([jpeg]), 'b.jpg');

    const response = await fetch(stack.url, { method: 'POST', headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${TOKEN}` }, body: form });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ errors: [{ message: 'Send one file per request.', extensions: { code: 'BAD_REQUEST' } }] });
    // The rest of the body was not read: the connection cannot carry another request.
    expect(response.headers.get('connection')).toBe('close');
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it.each([
    ['map before operations', (form: FormData) => (form.append('map', '{"0":["variables.file"]}'), form.append('operations', '{}')), /operations and map, in that order/],
    ['a map path outside the variables', (form: FormData) => (form.append('operations', JSON.stringify({ query: UPLOAD_PHOTO, variables: { ...ids, file: null } })), form.append('map', '{"0":["query"]}')), /The map path "query" must point into the variables/],
    ['a map path onto the prototype', (form: FormData) => (form.append('operations', JSON.stringify({ query: UPLOAD_PHOTO, variables: { ...ids, file: null } })), form.append('map', '{"0":["variables.__proto__"]}')), /must point into the variables/],
    ['a map path onto a variable that is not null', (form: FormData) => (form.append('operations', JSON.stringify({ query: UPLOAD_PHOTO, variables: { ...ids, file: 'already here' } })), form.append('map', '{"0":["variables.file"]}')), /The map path "variables.file" must point at a null in the operations/],
    ['operations that are not JSON', (form: FormData) => (form.append('operations', '{nope'), form.append('map', '{"0":["variables.file"]}')), /The operations field is not valid JSON/],
    ['a batch of operations', (form: FormData) => (form.append('operations', JSON.stringify([{ query: UPLOAD_PHOTO }])), form.append('map', '{"0":["0.variables.file"]}')), /^Operation batching is not supported by this gateway\.$/],
  ])('answers 400 BAD_REQUEST to %s, saying why', async (_case, fill, message) => {
    const form = new FormData();
    fill(form);
    form.append('0', new Blob([Buffer.from('x')]), 'a.jpg');

    const response = await fetch(stack.url, { method: 'POST', headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${TOKEN}` }, body: form });

    expect(response.status).toBe(400);
    const { errors } = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(errors[0]).toEqual({ message: expect.stringMatching(message), extensions: { code: 'BAD_REQUEST' } });
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('answers a JSON request whose Upload variable is a string with BAD_USER_INPUT', async () => {
    const result = await postGraphQL(stack.url, UPLOAD_PHOTO, { ...ids, file: 'data:image/jpeg;base64,AAAA' }, { token: TOKEN });

    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('keeps serving afterwards', async () => {
    const health = await fetch(`${new URL(stack.url).origin}/healthz`);
    const result = await upload(await (await twoColourImage(64, 48)).jpeg().toBuffer());

    expect(health.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
  });
});

describe('image work', () => {
  it('queues uploads past PHOTO_CONCURRENCY, and a request without an upload does not wait behind them', async () => {
    const busy = await startStack({ env: { PHOTO_CONCURRENCY: '1' } });
    try {
      const large = await noiseJpeg(3000, 2000);
      let settled = 0;
      const uploads = Array.from({ length: 6 }, (_, i) =>
        postUpload(busy.url, UPLOAD_PHOTO, { ...ids, contactId: `queued-${i}` }, large, { token: TOKEN }).finally(() => settled++),
      );
      // Until images are queued: one is processed at a time, the others wait their turn.
      const metricsUrl = `${new URL(busy.url).origin}/metrics`;
      const waiting = async () => Number(/^photo_images_waiting (\d+)/m.exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0);
      while ((await waiting()) < 2) await new Promise((resolve) => setTimeout(resolve, 5));

      const plain = await postGraphQL(busy.url, '{ contactPhoto(invitationId: "inv-upload", contactId: "none") { id } }', {}, { token: TOKEN });

      expect(plain.body).toEqual({ data: { contactPhoto: null } });
      expect(settled).toBeLessThan(6);
      const results = await Promise.all(uploads);
      expect(results.every((result) => result.body.errors === undefined)).toBe(true);
    } finally {
      await busy.close();
    }
  });
});

describe('PHOTO_MAX_UPLOAD_BYTES', () => {
  let limited: Stack;
  let jpeg: Buffer;
  beforeAll(async () => {
    jpeg = await (await twoColourImage(64, 48)).jpeg().toBuffer();
    limited = await startStack({ env: { PHOTO_MAX_UPLOAD_BYTES: String(jpeg.length) } });
  });
  afterAll(() => limited.close());

  it('accepts a file of exactly the limit', async () => {
    const result = await postUpload(limited.url, UPLOAD_PHOTO, ids, jpeg, { token: TOKEN });

    expect(result.body).toEqual({ data: { uploadContactPhoto: { id: '64X48', height: 48, width: 64 } } });
  });

  it('answers a file one byte over with HTTP 413, PAYLOAD_TOO_LARGE, and no Graph call', async () => {
    limited.simulator.reset();

    const result = await postUpload(limited.url, UPLOAD_PHOTO, ids, Buffer.concat([jpeg, Buffer.from([0])]), { token: TOKEN });

    expect(result.status).toBe(413);
    expect(result.body).toEqual({
      errors: [{ message: `The file is larger than the gateway accepts (${jpeg.length} bytes).`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
    expect(limited.simulator.requests).toHaveLength(0);
  });

  it('answers 413 as soon as the file passes the limit, without waiting for the rest of the body', async () => {
    const boundary = 'gateway-test-boundary';
    const head = [
      `--${boundary}`,
      'content-disposition: form-data; name="operations"',
      '',
      JSON.stringify({ query: UPLOAD_PHOTO, variables: { ...ids, file: null } }),
      `--${boundary}`,
      'content-disposition: form-data; name="map"',
      '',
      '{"0":["variables.file"]}',
      `--${boundary}`,
      'content-disposition: form-data; name="0"; filename="big.jpg"',
      'content-type: image/jpeg',
      '',
      '',
    ].join('\r\n');
    // The body announces 100 MB; only the start of the file (past the limit) is ever sent.
    const sent = `${head}${'x'.repeat(jpeg.length + 1024)}`;
    const port = Number(new URL(limited.url).port);

    const answer = await Promise.race([
      sendRawRequest(
        port,
        ['POST /graphql HTTP/1.1', `content-type: multipart/form-data; boundary=${boundary}`, 'apollo-require-preflight: true', `authorization: Bearer ${TOKEN}`],
        sent,
        100_000_000,
      ),
      new Promise<'waited for the body'>((resolve) => setTimeout(() => resolve('waited for the body'), 5000).unref()),
    ]);

    expect(answer).toMatchObject({ status: 413, headers: { connection: 'close' } });
    expect(JSON.parse((answer as { body: string }).body)).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('leaves the 100 KiB limit of JSON bodies as it is', async () => {
    const response = await fetch(limited.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(101 * 1024) } }),
    });

    expect(response.status).toBe(413);
  });
});

describe('PHOTO_MAX_PIXELS', () => {
  let limited: Stack;
  beforeAll(async () => {
    limited = await startStack({ env: { PHOTO_MAX_PIXELS: String(64 * 48) } });
  });
  afterAll(() => limited.close());

  it('accepts an image of exactly the limit', async () => {
    const result = await postUpload(limited.url, UPLOAD_PHOTO, ids, await (await twoColourImage(64, 48)).png().toBuffer(), { token: TOKEN });

    expect(result.body).toEqual({ data: { uploadContactPhoto: { id: '64X48', height: 48, width: 64 } } });
  });

  it('refuses one pixel column more, from its header', async () => {
    const result = await postUpload(limited.url, UPLOAD_PHOTO, ids, await (await twoColourImage(65, 48)).png().toBuffer(), { token: TOKEN });

    expect(result.body.errors![0]).toMatchObject({ message: 'The image is 65 x 48 pixels, over the limit of 3072 pixels.', extensions: { code: 'BAD_USER_INPUT' } });
  });
});
