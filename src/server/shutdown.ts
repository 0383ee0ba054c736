import type { Server } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../schema/context.js';
import type { Draining } from './http/draining.js';
import type { GatewayServices } from './services.js';

/** After the grace period, how long answers still being written get before sockets are closed. */
const FINAL_CLOSE_MS = 5000;

export interface RunningGateway {
  app: FastifyInstance;
  apollo: ApolloServer<GatewayContext>;
  /** With `METRICS_PORT`. */
  metricsServer: Server | undefined;
  draining: Draining;
  services: GatewayServices;
  /** `SHUTDOWN_GRACE_MS`. */
  graceMs: number;
}

/**
 * Drains and stops (see `Gateway.shutdown`): draining starts, so new GraphQL requests are
 * refused; the requests in flight get `graceMs`, after which their Graph calls are ended so that
 * each still gets an error answer, and their answers `FINAL_CLOSE_MS` more to be written. Then
 * HTTP, Apollo and the metrics listener are closed, and the services last, whatever failed.
 */
export async function shutDown({ app, apollo, metricsServer, draining, services, graceMs }: RunningGateway): Promise<void> {
  draining.start();
  const grace = setTimeout(() => {
    services.logger.warn({ graceMs }, 'grace period over: ending the Graph calls still in flight');
    services.endGraphCalls();
    setTimeout(() => app.server.closeAllConnections(), FINAL_CLOSE_MS).unref();
  }, graceMs);
  grace.unref();
  try {
    await app.close();
    await apollo.stop();
    if (metricsServer?.listening) await new Promise((resolve) => metricsServer.close(resolve));
  } finally {
    clearTimeout(grace);
    await services.close();
  }
}
