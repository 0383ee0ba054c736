import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { twoColourImage } from '../support/images.js';
import { postGraphQL } from '../support/graphql.js';
import { metric } from '../support/metrics.js';
import { startSignInStack, type SignInStack } from '../support/sign-in.js';
import { postUpload, UPLOAD_PHOTO } from '../support/upload.js';

/**
 * What sign-in (AUTH_MODE=obo) checks before any GraphQL work: an upload's token, from its
 * headers, before a byte of the body is read or a place in the photo queue is held; and, with
 * Federation in production, the token of a request for the subgraph's schema. The gateway runs
 * as its own process, the simulator plays Entra ID (HTTPS, its own CA) and Graph.
 */

const ids = { invitationId: 'inv-upload-sign-in', contactId: 'contact-upload-sign-in' };

let stack: SignInStack;
beforeAll(async () => {
  // One image at a time and 2 waiting: 3 places in all, which the refused uploads below would fill.
  stack = await startSignInStack({ env: { PHOTO_CONCURRENCY: '1', PHOTO_QUEUE: '2', UV_THREADPOOL_SIZE: '4', FEDERATION: 'true', NODE_ENV: 'production' } });
});
afterAll(() => stack.close());

/** Sends an upload's headers, then nothing: what the gateway answers from them (or '' if it waits for the body). */
function answerToHeaders(headers: string[], waitMs = 2000): Promise<string> {
  const port = Number(new URL(stack.url).port);
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  socket.on('error', () => undefined);
  socket.write(['POST /graphql HTTP/1.1', 'host: 127.0.0.1', 'content-type: multipart/form-data; boundary=x', 'apollo-require-preflight: true', `content-length: ${5 * 1024 * 1024}`, ...headers, '', ''].join('\r\n'));
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', () => {
      if (answer.includes('\r\n\r\n')) setTimeout(done, 20);
    });
  });
}

describe('an upload with sign-in', () => {
  it('refuses a token that is not valid from the headers, never asking for the body (Expect: 100-continue)', async () => {
    const answer = await answerToHeaders(['authorization: Bearer not-a-jwt', 'expect: 100-continue']);

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
    expect(answer).toContain('www-authenticate: Bearer error="invalid_token"');
    expect(answer).not.toContain('100 Continue');
    expect(answer).toContain('"code":"UNAUTHENTICATED"');
  });

  it('refuses a token without the scope from the headers, 403 insufficient_scope', async () => {
    const token = await stack.entra.userToken({ scp: 'User.Read' });

    const answer = await answerToHeaders([`authorization: Bearer ${token}`, 'expect: 100-continue']);

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(answer).toContain('www-authenticate: Bearer error="insufficient_scope"');
    expect(answer).not.toContain('100 Continue');
  });

  it('holds no queue place for uploads with bad tokens: 12 that never send their body leave room for a signed-in user', async () => {
    stack.graph.reset();
    // Without Expect: a client that sends its headers and then its body slowly (here: never).
    const refused = await Promise.all(Array.from({ length: 12 }, () => answerToHeaders(['authorization: Bearer not-a-jwt'])));
    expect(refused.map((answer) => answer.split('\r\n')[0])).toEqual(Array(12).fill('HTTP/1.1 401 Unauthorized'));

    const jpeg = await (await twoColourImage(64, 48)).jpeg().toBuffer();
    const result = await postUpload(stack.url, UPLOAD_PHOTO, ids, jpeg, { token: await stack.entra.userToken() });

    expect(result.body).toEqual({ data: { uploadContactPhoto: { id: '64X48', height: 48, width: 64 } } });
    expect(stack.graph.requests.filter((request) => request.method === 'PUT')).toHaveLength(1);
  });

  it('gives back every place and byte when 20 callers with tokens it has not seen leave right after an upload’s headers', async () => {
    const port = Number(new URL(stack.url).port);
    // Each a token the gateway has not seen, so that its check takes turns of the event loop; the
    // caller sends the upload's headers and is gone at once.
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => stack.entra.userToken({ oid: `leaver-${i}` })));
    await Promise.all(
      tokens.map(
        (token) =>
          new Promise<void>((resolve) => {
            const socket = connect(port, '127.0.0.1', () => {
              socket.end(['POST /graphql HTTP/1.1', 'host: 127.0.0.1', 'content-type: multipart/form-data; boundary=x', 'apollo-require-preflight: true', 'content-length: 100000', `authorization: Bearer ${token}`, '', ''].join('\r\n'));
              socket.destroy();
            });
            socket.on('close', () => resolve());
            socket.on('error', () => undefined);
          }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(await metric(stack.url, 'photo_upload_bytes_admitted')).toBe(0);
    expect(await metric(stack.url, 'photo_images_admitted')).toBe(0);
  });

  it('lets a valid token’s upload through to Graph, as before', async () => {
    const jpeg = await (await twoColourImage(64, 48)).jpeg().toBuffer();

    const result = await postUpload(stack.url, UPLOAD_PHOTO, ids, jpeg, { token: await stack.entra.userToken() });

    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
  });
});

describe('Federation’s _service { sdl } with sign-in, in production', () => {
  it('answers the schema only to a token the gateway accepts', async () => {
    const none = await postGraphQL(stack.url, '{ _service { sdl } }');
    const bad = await postGraphQL(stack.url, '{ _service { sdl } }', {}, { token: 'not-a-jwt' });
    const good = await postGraphQL(stack.url, '{ _service { sdl } }', {}, { token: await stack.entra.userToken() });

    expect([none.status, none.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    expect([bad.status, bad.headers.get('www-authenticate')]).toEqual([401, 'Bearer error="invalid_token"']);
    expect(JSON.stringify([none.body, bad.body])).not.toContain('ProfilePhoto');
    expect(good.status).toBe(200);
    expect((good.body.data!['_service'] as { sdl: string }).sdl).toContain('type ProfilePhoto');
  });
});
