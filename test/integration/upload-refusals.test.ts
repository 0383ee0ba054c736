import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LINGER_BYTES } from '../../src/server/http/lingering-close.js';
import { UPLOAD_PHOTO } from '../support/upload.js';
import { startStack, type Stack } from '../support/stack.js';

/** Uploads the gateway refuses, as clients that send their whole body at once see the refusal. */

const ids = { invitationId: 'inv-refusals', contactId: 'contact-refusals' };
const TOKEN = 'refusal-token';
const LIMIT = 64 * 1024;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { PHOTO_MAX_UPLOAD_BYTES: String(LIMIT) } });
});
afterAll(() => stack.close());

interface SeenByClient {
  status?: number;
  connection?: string | null;
  code?: string;
  error?: string;
}

/**
 * Uploads `bytes` with Node's fetch (no `Expect: 100-continue`: the whole body is sent at once)
 * from a process of its own: within the gateway's own process the body and the answer take turns
 * on one event loop, and the race that resets a client never happens.
 */
function uploadFromAnotherProcess(url: string, bytes: number, order: 'as the spec says' | 'map first' = 'as the spec says'): Promise<SeenByClient> {
  const operations = `form.append('operations', ${JSON.stringify(JSON.stringify({ query: UPLOAD_PHOTO, variables: { ...ids, file: null } }))});`;
  const map = `form.append('map', '{"0":["variables.file"]}');`;
  const script = `
    const file = new Uint8Array(${bytes}).fill(0x61);
    file.set([0xff, 0xd8, 0xff, 0xe0]);
    const form = new FormData();
    ${order === 'map first' ? map + operations : operations + map}
    form.append('0', new Blob([file], { type: 'image/jpeg' }), 'big.jpg');
    try {
      const response = await fetch(${JSON.stringify(url)}, { method: 'POST', headers: { 'apollo-require-preflight': 'true', authorization: 'Bearer ${TOKEN}' }, body: form });
      const body = await response.json();
      console.log(JSON.stringify({ status: response.status, connection: response.headers.get('connection'), code: body.errors?.[0]?.extensions?.code }));
    } catch (error) {
      console.log(JSON.stringify({ error: error.cause?.code ?? error.message }));
    }`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', () => resolve(JSON.parse(out) as SeenByClient));
  });
}

describe('an upload over PHOTO_MAX_UPLOAD_BYTES sent without Expect: 100-continue', () => {
  it.each([
    ['refused from its Content-Length', 16 * 1024 * 1024],
    ['refused while its file is read', LIMIT + 100 * 1024],
  ])('is answered 413 PAYLOAD_TOO_LARGE, not a reset, with the connection closed after it (%s)', async (_case, bytes) => {
    stack.simulator.reset();

    // Three times: a reset is a race the client loses most of the time, not every time.
    for (let i = 0; i < 3; i++) {
      expect(await uploadFromAnotherProcess(stack.url, bytes)).toEqual({ status: 413, connection: 'close', code: 'PAYLOAD_TOO_LARGE' });
    }
    expect(stack.simulator.requests).toHaveLength(0);
  });
});

describe('an upload refused part-way through its body, sent without Expect: 100-continue', () => {
  let roomy: Stack;
  beforeAll(async () => {
    roomy = await startStack({ env: { PHOTO_MAX_UPLOAD_BYTES: String(20 * 1024 * 1024) } });
  });
  afterAll(() => roomy.close());

  it('is answered 400 with the connection closed, to a client still sending megabytes of its body (the map sent before the operations)', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await uploadFromAnotherProcess(roomy.url, 16 * 1024 * 1024, 'map first')).toEqual({ status: 400, connection: 'close', code: 'BAD_REQUEST' });
    }
    expect(roomy.simulator.requests).toHaveLength(0);
  });
});

describe('the lingering read after a refusal', () => {
  it('is bounded: a client that goes on sending is disconnected after LINGER_BYTES more, having been answered first', async () => {
    const port = Number(new URL(stack.url).port);
    // Half-open allowed: it goes on sending after the gateway has shut its side, as an HTTP client sending its body does.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const head = ['POST /graphql HTTP/1.1', 'host: 127.0.0.1', 'content-type: multipart/form-data; boundary=x', 'apollo-require-preflight: true', `authorization: Bearer ${TOKEN}`, `content-length: ${4 * LINGER_BYTES}`, '', ''].join('\r\n');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const chunk = Buffer.alloc(1024 * 1024);
    let sent = 0;
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(head);
    // Sends as fast as the gateway reads, until it closes the connection (or the whole declared body is sent).
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (!socket.destroyed && sent < 4 * LINGER_BYTES) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        resolve();
      };
      socket.once('close', () => resolve());
      pump();
    });
    await ended;

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(sent).toBeGreaterThan(LINGER_BYTES);
    expect(sent).toBeLessThan(4 * LINGER_BYTES);
  });
});

/**
 * Writes `request` on a kept-alive connection and resolves with what the server sent and whether
 * it closed the connection within `waitMs` (it must, for a request whose body it did not read).
 */
async function exchangeOnKeptAliveConnection(request: string, waitMs = 3000, until?: RegExp): Promise<{ answer: string; closedByServer: boolean }> {
  const port = Number(new URL(stack.url).port);
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let answer = '';
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    const done = (closedByServer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ answer, closedByServer });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
      if (until?.test(answer)) done(false);
    });
    socket.once('end', () => done(true));
    socket.write(request);
  });
}

function multipartBody(parts: Array<[name: string, value: string, filename?: string]>, boundary = 'b0undary'): string {
  const lines: string[] = [];
  for (const [name, value, filename] of parts) {
    lines.push(`--${boundary}`, `content-disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}`, ...(filename ? ['content-type: image/jpeg'] : []), '', value);
  }
  lines.push(`--${boundary}--`, '');
  return lines.join('\r\n');
}

const head = (body: string, extra: string[] = []) =>
  ['POST /graphql HTTP/1.1', 'host: 127.0.0.1', 'content-type: multipart/form-data; boundary=b0undary', 'apollo-require-preflight: true', `authorization: Bearer ${TOKEN}`, `content-length: ${Buffer.byteLength(body)}`, ...extra, '', ''].join('\r\n');

describe('multipart requests refused by the gateway', () => {
  it('refuses an empty apollo-require-preflight header as no preflight header (CSRF), from the headers, its body never read', async () => {
    const withoutPreflight = head('').replace('apollo-require-preflight: true', 'apollo-require-preflight: ').replace('content-length: 0', 'content-length: 1000000');

    const { answer, closedByServer } = await exchangeOnKeptAliveConnection(withoutPreflight);

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(answer).toMatch(/Cross-Site Request Forgery/);
    expect(closedByServer).toBe(true);
  });

  it('closes the connection of an upload refused from its headers whose body the client may still send', async () => {
    const csrf = head('').replace('apollo-require-preflight: true\r\n', '').replace('content-length: 0', 'content-length: 1000000');

    const { answer, closedByServer } = await exchangeOnKeptAliveConnection(csrf);

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(closedByServer).toBe(true);
  });

  it('refuses a map that puts the file outside the variables, also into a null elsewhere in the operations', async () => {
    stack.simulator.reset();
    const operations = JSON.stringify({ query: UPLOAD_PHOTO, variables: { ...ids, file: null }, extensions: { file: null } });
    const body = multipartBody([
      ['operations', operations],
      ['map', '{"0":["extensions.file"]}'],
      ['0', 'not read', 'a.jpg'],
    ]);

    const { answer } = await exchangeOnKeptAliveConnection(head(body) + body);

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(answer).toContain('The map path \\"extensions.file\\" must point into the variables');
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('closes the connection of a multipart request it refused part-way through (its body was not read to the end)', async () => {
    const body = multipartBody([
      ['map', '{"0":["variables.file"]}'],
      ['operations', JSON.stringify({ query: UPLOAD_PHOTO, variables: { ...ids, file: null } })],
    ]);

    const { answer, closedByServer } = await exchangeOnKeptAliveConnection(head(body) + body);

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(closedByServer).toBe(true);
  });

  it('reads Expect: 100-continue in any letter case: an admitted upload is told to send its body', async () => {
    const body = 'x'.repeat(1000);

    const { answer } = await exchangeOnKeptAliveConnection(head(body, ['Expect: 100-Continue']), 3000, /\r\n\r\n/);

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 100 Continue');
  });

  it('reads Expect: 100-continue in any letter case: a refused upload is answered with its connection closed, its body never asked for', async () => {
    const { answer, closedByServer } = await exchangeOnKeptAliveConnection(head('', ['Expect: 100-CONTINUE']).replace(/content-length: 0/, `content-length: ${LIMIT * 8}`));

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(answer).not.toContain('100 Continue');
    expect(closedByServer).toBe(true);
  });
});
