import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** How long a refused request's body is still read, at most, once its answer is sent. */
const LINGER_MS = 5000;
/** How many bytes of it are dropped, at most, before the connection is closed anyway. */
export const LINGER_BYTES = 64 * 1024 * 1024;

/**
 * Closes the connection of a request answered before its body was read (an upload refused from
 * its headers, or part-way through its file) the way nginx's "lingering close" does: the answer
 * is sent with `Connection: close` and the gateway's side shut, then what the client is still
 * sending is read and thrown away, for `LINGER_MS` and `LINGER_BYTES` at most, before the socket
 * is closed. Closed at once, a client still sending its body (Node's fetch, a script, server-side
 * rendering: anything that does not send `Expect: 100-continue`) gets a reset from the kernel
 * for the unread bytes, often before it has read the answer, and reports EPIPE or ECONNRESET
 * instead of the status the gateway sent.
 *
 * Call it before the answer is sent, with `Connection: close` set on it: Node ends such an
 * answer's socket with `socket.destroySoon()` once it is written, which this replaces for this
 * socket (Node calls it only where a socket has it: `typeof socket.destroySoon === 'function'`).
 * The body is counted on the request: Node's HTTP parser reads the socket itself, and a `data`
 * listener on the socket would stop it.
 */
export function closeAfterLingering(request: IncomingMessage): void {
  const socket = request.socket as Socket & { destroySoon?: () => void };
  const close = (): void => void socket.destroy();
  let dropped = 0;
  // What is left of the body goes nowhere. A parser that gave up on it unpiped it, which leaves
  // the request paused (a `data` listener alone would not resume it): resumed explicitly.
  request.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) close();
  });
  request.resume();
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(close, LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}
