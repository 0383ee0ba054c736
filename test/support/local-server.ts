import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/** A loopback server that records what reaches it: a stand-in for "some other host". */
export async function startRecordingServer(): Promise<{ url: string; requests: http.IncomingHttpHeaders[]; close(): Promise<void> }> {
  const requests: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((request, response) => {
    requests.push(request.headers);
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

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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
    async finish() {
      let raw = '';
      socket.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      const ended = once(socket, 'close');
      socket.write(`\r\n${body}`);
      await ended;
      const [statusLine, ...rest] = raw.slice(0, raw.indexOf('\r\n\r\n')).split('\r\n');
      const responseHeaders: Record<string, string> = {};
      for (const line of rest) {
        const colon = line.indexOf(':');
        responseHeaders[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      return { status: Number(statusLine!.split(' ')[1]), headers: responseHeaders, body: raw.slice(raw.indexOf('\r\n\r\n') + 4) };
    },
  };
}
