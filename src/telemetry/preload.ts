/**
 * Loaded before the gateway (`node --import ./dist/telemetry/preload.js dist/main.js`, as
 * `npm start` does). When the environment asks for traces, it registers OpenTelemetry's ESM hooks
 * (so that `graphql`, imported as ESM by Apollo, can be instrumented) and starts the SDK; else it
 * does nothing and loads nothing more.
 */
import { register } from 'node:module';
import { tracingEnabled } from '../config/telemetry-config.js';

if (tracingEnabled(process.env)) {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const { startTracing } = await import('./tracing.js');
  startTracing();
}
