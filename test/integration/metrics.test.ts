import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UPDATE_PHOTO, errorCode, postGraphQL } from '../support/graphql.js';
import { startStack, type Stack } from '../support/stack.js';

/** The value of one sample of the Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = sampleLine(text, name, labels);
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function sampleLine(text: string, name: string, labels: string): string | undefined {
  return text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `) || (labels === '' && candidate.startsWith(`${name} `)));
}

const update = (stack: Stack, invitationId: string) =>
  postGraphQL(stack.url, UPDATE_PHOTO, { invitationId, contactId: 'metrics-contact', input: { height: 1, width: 1 } }, { token: 'metrics-token' });

describe('GET /metrics', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { GRAPH_MAX_RETRIES: '1' } });
  });
  afterAll(() => stack.close());
  const scrape = async () => {
    const response = await fetch(`${new URL(stack.url).origin}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return response.text();
  };

  it('counts operations, Graph requests by status, retries and their latency', async () => {
    const before = await scrape();
    stack.simulator.fail({ status: 503, retryAfter: '0', invitationId: 'retried' });
    stack.simulator.fail({ status: 404, invitationId: 'missing' });

    await update(stack, 'retried'); // 503, retried, then 200
    const notFound = await update(stack, 'missing'); // 404
    await update(stack, 'plain'); // 200
    const after = await scrape();

    expect(errorCode(notFound)).toBe('NOT_FOUND');
    const moved = (name: string, labels = '') => sample(after, name, labels) - sample(before, name, labels);
    expect(moved('graphql_operations_total', '{root_field="updateContactPhoto",code="OK"}')).toBe(2);
    expect(moved('graphql_operations_total', '{root_field="updateContactPhoto",code="NOT_FOUND"}')).toBe(1);
    expect(moved('graph_requests_total', '{method="PATCH",status="200"}')).toBe(2);
    expect(moved('graph_requests_total', '{method="PATCH",status="503"}')).toBe(1);
    expect(moved('graph_requests_total', '{method="PATCH",status="404"}')).toBe(1);
    expect(moved('graph_retries_total', '{method="PATCH"}')).toBe(1);
    expect(moved('graph_request_duration_seconds_count', '{method="PATCH"}')).toBe(4);
    expect(after).toContain('graph_mailbox_waiting_calls 0');
    // Node's default process metrics are there too.
    expect(sample(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts an answer cut off for its size under the status Graph sent', async () => {
    // A call that gets no answer at all, so that the `status="none"` series exists and "moved by
    // 0" below means something.
    stack.simulator.fail({ reset: 'before-headers', times: 2, invitationId: 'unanswered' });
    expect(errorCode(await update(stack, 'unanswered'))).toBe('UPSTREAM_UNAVAILABLE');
    const before = await scrape();
    expect(sampleLine(before, 'graph_requests_total', '{method="PATCH",status="none"}')).toBeDefined();
    stack.simulator.fail({ status: 200, body: 'huge', invitationId: 'oversized' });

    const answer = await update(stack, 'oversized');
    const after = await scrape();

    expect(errorCode(answer)).toBe('BAD_GATEWAY');
    const moved = (name: string, labels = '') => sample(after, name, labels) - sample(before, name, labels);
    expect(moved('graph_requests_total', '{method="PATCH",status="200"}')).toBe(1);
    expect(moved('graph_requests_total', '{method="PATCH",status="none"}')).toBe(0);
  });
});

describe('in production', () => {
  it('does not serve /metrics on the main port unless METRICS_ON_MAIN_PORT says so', async () => {
    const closed = await startStack({ env: { NODE_ENV: 'production' } });
    const open = await startStack({ env: { NODE_ENV: 'production', METRICS_ON_MAIN_PORT: 'true' } });
    try {
      expect((await fetch(`${new URL(closed.url).origin}/metrics`)).status).toBe(404);
      expect((await fetch(`${new URL(open.url).origin}/metrics`)).status).toBe(200);
    } finally {
      await closed.close();
      await open.close();
    }
  });
});

describe('with METRICS_PORT', () => {
  it('serves /metrics on that port only', async () => {
    const stack = await startStack({ env: { METRICS_PORT: '0' } });
    try {
      const onMetricsPort = await fetch(stack.gateway.metricsUrl!);
      const onMainPort = await fetch(`${new URL(stack.url).origin}/metrics`);

      expect(onMetricsPort.status).toBe(200);
      expect(await onMetricsPort.text()).toContain('graphql_operations_total');
      expect(onMainPort.status).toBe(404);
    } finally {
      await stack.close();
    }
  });
});
