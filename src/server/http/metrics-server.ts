import http from 'node:http';
import type { GatewayMetrics } from '../../metrics/metrics.js';

/** A bare listener that serves `GET /metrics` and nothing else. */
export function createMetricsServer(metrics: GatewayMetrics): http.Server {
  return http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
}
