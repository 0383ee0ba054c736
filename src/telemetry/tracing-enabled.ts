/**
 * Whether the environment asks for traces, by the OpenTelemetry conventions: an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `..._TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER`, unless
 * `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`. Kept apart from the SDK, which it
 * must not load.
 */
export function tracingEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporter = env['OTEL_TRACES_EXPORTER']?.trim();
  if (exporter === 'none') return false;
  return Boolean(exporter || env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim() || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim());
}
