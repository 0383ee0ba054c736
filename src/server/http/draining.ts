import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyPluginCallback } from 'fastify';
import { rootPlugin } from './root-plugin.js';

/**
 * Whether the gateway is draining, from the moment its shutdown begins: the guards then refuse
 * new GraphQL requests, `/readyz` answers 503, and every answer closes its connection.
 */
export class Draining {
  #draining = false;
  readonly #connections = new Set<Socket>();

  /** Whether `start` has been called. */
  get started(): boolean {
    return this.#draining;
  }

  /** Keeps count of `server`'s connections, for `start`. */
  track(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.#connections.add(socket);
      socket.once('close', () => this.#connections.delete(socket));
    });
  }

  /**
   * Starts draining, and closes the connections that have not sent a byte yet: Node's
   * `server.close()` leaves them open (they are not "idle" to it) until their headers time out,
   * which held shutdown for up to the grace period.
   */
  start(): void {
    this.#draining = true;
    for (const socket of this.#connections) if (socket.bytesRead === 0) socket.destroy();
  }
}

export interface DrainingOptions {
  draining: Draining;
}

/**
 * While draining, every answer closes its connection, so that keep-alive clients move on. On the
 * root, so that it applies to every route. Callback-style: it runs on every answer, and an async
 * hook would cost a promise each time for a flag check.
 */
export const drainingPlugin = rootPlugin(
  'gateway-draining',
  ((app, { draining }, done) => {
    draining.track(app.server);
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (draining.started) void reply.header('connection', 'close');
      done(null, payload);
    });
    done();
  }) satisfies FastifyPluginCallback<DrainingOptions>,
);
