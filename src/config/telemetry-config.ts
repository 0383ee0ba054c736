import { ConfigError } from './config-error.js';
import { raw, type Env } from './env-values.js';

/**
 * What the gateway tells of itself: OpenTelemetry traces, and Apollo GraphOS usage reporting.
 * The telemetry preload reads `tracingEnabled` before the gateway loads (so this file imports
 * nothing but config/'s own small modules, and never the SDK).
 */

/** Apollo GraphOS usage (and schema) reporting, when `APOLLO_KEY` and `APOLLO_GRAPH_REF` are both set. */
export interface ApolloReporting {
  key: string;
  graphRef: string;
  /** Where usage and schema reports go; Apollo's own endpoints when unset (a proxy, or a test). */
  usageReportingUrl: string | undefined;
  schemaReportingUrl: string | undefined;
}

/**
 * Whether the environment asks for traces, by the OpenTelemetry conventions: an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `..._TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER`, unless
 * `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`.
 */
export function tracingEnabled(env: Env): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporter = env['OTEL_TRACES_EXPORTER']?.trim();
  if (exporter === 'none') return false;
  return Boolean(exporter || env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim() || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim());
}

export function apolloReporting(env: Env): ApolloReporting | undefined {
  const key = raw(env, 'APOLLO_KEY');
  const graphRef = raw(env, 'APOLLO_GRAPH_REF');
  if (key === undefined && graphRef === undefined) return undefined;
  if (key === undefined || graphRef === undefined) {
    const missing = key === undefined ? 'APOLLO_KEY' : 'APOLLO_GRAPH_REF';
    throw new ConfigError(missing, 'must be set together with APOLLO_KEY and APOLLO_GRAPH_REF for Apollo usage reporting', '');
  }
  return {
    key,
    graphRef,
    usageReportingUrl: raw(env, 'APOLLO_USAGE_REPORTING_URL'),
    schemaReportingUrl: raw(env, 'APOLLO_SCHEMA_REPORTING_URL'),
  };
}
