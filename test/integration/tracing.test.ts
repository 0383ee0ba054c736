import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { tracingEnabled } from '../../src/config/telemetry-config.js';

interface SpanRecord {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  attributes: Record<string, unknown>;
}

const SERVER = 1;
const CLIENT = 2;

describe('OpenTelemetry tracing', () => {
  it('is on only when the OTEL_* variables ask for it', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
    expect(tracingEnabled({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
  });

  it('traces one mutation from the HTTP request through GraphQL to the Graph call, and propagates traceparent to Graph', async () => {
    const fixture = fileURLToPath(new URL('../fixtures/trace-one-mutation.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], { timeout: 30_000 });
    const { body, traceparent, logs, spans } = JSON.parse(stdout) as {
      body: unknown;
      traceparent: string | null;
      logs: Array<Record<string, unknown>>;
      spans: SpanRecord[];
    };
    expect(body).toEqual({ data: { updateContactPhoto: { id: '1x1' } } });

    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const ancestors = (span: SpanRecord): SpanRecord[] => {
      const parent = span.parentSpanId === null ? undefined : byId.get(span.parentSpanId);
      return parent ? [parent, ...ancestors(parent)] : [];
    };
    // A GET's document and variables never reach the gateway's incoming span (the simulator's
    // own server span, in the same process here, is Graph's side and not checked).
    const getSpan = spans.find((span) => span.kind === SERVER && span.name === 'GET' && span.attributes['url.path'] === '/graphql')!;
    expect(getSpan.attributes['url.query']).toBe('query=REDACTED&variables=REDACTED');
    expect(JSON.stringify(getSpan)).not.toMatch(/trace-get-(invitation|contact)-id/);

    // The incoming request is the root of one trace (the schema's parse at start-up is another).
    const server = spans.find((span) => span.kind === SERVER && span.parentSpanId === null)!;
    expect(server.name).toMatch(/POST/);
    const request = spans.filter((span) => span.traceId === server.traceId);
    expect(request.every((span) => span === server || ancestors(span).includes(server))).toBe(true);

    // GraphQL's own spans sit under it (parse, validate, the operation, the resolver), and the
    // Graph call under the resolver's.
    const graphql = request.filter((span) => /^graphql\.|^mutation UpdateContactPhoto$/.test(span.name));
    expect(graphql.map((span) => span.name).sort()).toEqual(
      ['graphql.parse', 'graphql.resolve updateContactPhoto', 'graphql.validate', 'mutation UpdateContactPhoto'].sort(),
    );
    const graphCall = spans.find((span) => span.name === 'Graph PATCH /invitations/{invitationId}/invitedUser/contacts/{contactId}/photo')!;
    expect(graphCall).toBeDefined();
    expect(ancestors(graphCall)).toContain(server);
    expect(byId.get(graphCall.parentSpanId!)!.name).toBe('graphql.resolve updateContactPhoto');
    expect(graphCall.attributes).toMatchObject({
      'http.request.method': 'PATCH',
      'url.template': '/invitations/{invitationId}/invitedUser/contacts/{contactId}/photo',
      'http.response.status_code': 200,
      'graph.attempts': 1,
      'graph.client_request_id': expect.stringMatching(/^[0-9a-f-]{36}$/),
    });

    // The HTTP request to Graph is a client span under it, and Graph got its trace context.
    const httpClient = spans.find((span) => span.kind === CLIENT && span.parentSpanId === graphCall.spanId)!;
    expect(httpClient).toBeDefined();
    expect(traceparent).toBe(`00-${server.traceId}-${httpClient.spanId}-01`);

    expect(httpClient.attributes['url.full']).toMatch(/\/invitations\/\{invitationId\}\/invitedUser\/contacts\/\{contactId\}\/photo$/);

    // Never the raw ids or the token in any of the gateway's spans (the simulator, in the same
    // process here, traces its own request: that one is Graph's side, under the client span).
    const everything = JSON.stringify(spans.filter((span) => span.parentSpanId !== httpClient.spanId));
    expect(everything).not.toMatch(/trace-invitation-id|trace-contact-id|trace-secret-token/);
    expect(logs.find((line) => line['msg'] === 'graphql operation')).toMatchObject({ traceId: server.traceId });
  });
});
