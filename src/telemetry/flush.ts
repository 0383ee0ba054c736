import { trace } from '@opentelemetry/api';

/**
 * Exports the spans still buffered, when a tracing SDK is running (a no-op otherwise). Called
 * before the process exits, which `process.exit` would otherwise cut short.
 */
export async function flushTraces(): Promise<void> {
  const provider = trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } };
  await provider.getDelegate?.().forceFlush?.();
}
