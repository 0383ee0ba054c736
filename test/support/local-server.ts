import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/** A loopback server that records what reaches it: a stand-in for "some other host". */
export interface RecordedRequest {
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
}

export async function startRecordingServer(): Promise<{ url: string; requests: RecordedRequest[]; close(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((request, response) => {
    requests.push({ url: request.url, headers: request.headers });
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"stolen","height":1,"width":1}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Starts an HTTP/1.1 request on a new connection and stops before the blank line that ends its
 * headers, so that the server sees a request in progress (not an idle connection). `finish()`
 * sends the rest and reads the answer. Used to ask a draining server something: new
 * connections are refused by then.
 */
export async function startRawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<{ finish(): Promise<RawResponse> }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const head = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', `content-length: ${Buffer.byteLength(body)}`]
    .concat(Object.entries(headers).map(([name, value]) => `${name}: ${value}`))
    .join('\r\n');
  socket.write(`${head}\r\n`);
  return {
    finish() {
      const answer = readRawResponse(socket);
      socket.write(`\r\n${body}`);
      return answer;
    },
  };
}

/**
 * Sends `head` (request line and header lines, written exactly as given, so a header can be
 * repeated) and `body` on a new connection, then reads the answer until the server closes it.
 * With `contentLength` larger than the body, the request is left unfinished.
 */
export async function sendRawRequest(
  port: number,
  head: readonly string[],
  body = '',
  contentLength = Buffer.byteLength(body),
): Promise<RawResponse> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const answer = readRawResponse(socket);
  socket.write([...head, 'host: 127.0.0.1', 'connection: close', `content-length: ${contentLength}`, '', body].join('\r\n'));
  return answer;
}

/** Reads an HTTP/1.1 answer off `socket` until the server closes the connection. */
async function readRawResponse(socket: net.Socket): Promise<RawResponse> {
  let raw = '';
  socket.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
  await once(socket, 'close');
  const headEnd = raw.indexOf('\r\n\r\n');
  const [statusLine, ...rest] = raw.slice(0, headEnd).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of rest) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(headEnd + 4) };
}
