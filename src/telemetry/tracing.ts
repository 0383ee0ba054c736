/**
 * OpenTelemetry tracing, following the OpenTelemetry environment conventions: on when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_TRACES_EXPORTER` is set (and not `OTEL_SDK_DISABLED=true`
 * or `OTEL_TRACES_EXPORTER=none`); the exporter, endpoint, sampler and service name come from the
 * usual `OTEL_*` variables (see `tracingEnabled` in `src/config/telemetry-config.ts`). This
 * module loads the SDK: import it only when tracing is on (`preload.ts` does), so that a gateway
 * without tracing never loads it, and before anything it instruments: nothing here may import
 * `graphql` or the gateway.
 */
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { templatedPath } from '../graph/contact-photo-route.js';
import { GATEWAY_NAME } from '../version.js';

/**
 * Starts the SDK with the HTTP and GraphQL instrumentations. `spanProcessors` replaces the
 * exporter the environment names (tests use an in-memory one).
 */
export function startTracing(options: Pick<Partial<NodeSDKConfiguration>, 'spanProcessors'> = {}): NodeSDK {
  const sdk = new NodeSDK({
    serviceName: process.env['OTEL_SERVICE_NAME'] ?? GATEWAY_NAME,
    instrumentations: [
      new HttpInstrumentation({
        // The HTTP client spans of Graph calls name the route template, never the raw ids.
        startOutgoingSpanHook: (request) => {
          const path = 'path' in request && typeof request.path === 'string' ? request.path : undefined;
          if (path === undefined || templatedPath(path) === path) return {};
          const port = request.port ? `:${request.port}` : '';
          return { 'url.full': `${request.protocol ?? 'http:'}//${request.hostname ?? request.host ?? ''}${port}${templatedPath(path)}` };
        },
        // A GET request's query string holds its document and variables (ids), and docs/observability.md
        // promises that spans never carry them: on the incoming span their values are redacted.
        redactedQueryParamsServer: ['query', 'variables', 'extensions', 'operationName'],
        // Health checks and scrapes are not worth a trace each.
        ignoreIncomingRequestHook: (request) => request.url === '/healthz' || request.url === '/readyz' || request.url === '/metrics',
      }),
      // Resolver spans only for fields that do work (not for every scalar of a photo).
      new GraphQLInstrumentation({ ignoreTrivialResolveSpans: true, mergeItems: true }),
    ],
    // Traces only: metrics are prom-client's (/metrics) and logs pino's. Left unset, the SDK would
    // also start OTLP metric and log exporters from the environment's defaults.
    metricReaders: [],
    logRecordProcessors: [],
    ...options,
  });
  sdk.start();
  return sdk;
}
