import type { FastifyPluginAsync } from 'fastify';
import type { GatewayMetrics } from '../../metrics/metrics.js';

export interface MetricsRouteOptions {
  metrics: GatewayMetrics;
}

/**
 * `GET /metrics` on the gateway's own port (`METRICS_ON_MAIN_PORT`; with `METRICS_PORT` they are
 * served by a listener of their own instead, metrics-server.ts, to keep them off the public one).
 */
export const metricsRoutePlugin: FastifyPluginAsync<MetricsRouteOptions> = async (app, { metrics }) => {
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
