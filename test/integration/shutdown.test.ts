import { getEventListeners } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { GraphClient } from '../../src/graph/graph-client.js';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';
import { UPDATE_PHOTO, errorCode, postGraphQL } from '../support/graphql.js';
import { startRawRequest } from '../support/local-server.js';
import { killRunning, runCompiled, waitFor } from '../support/process.js';
import { startStack, type Stack } from '../support/stack.js';

const variables = { invitationId: 'inv-d', contactId: 'contact-d', input: { height: 360, width: 360 } };

// Whatever a test did or failed to do, nothing it started outlives it (Jest would wait for it).
let opened: Stack | undefined;
afterEach(async () => {
  await killRunning();
  await opened?.close();
  opened = undefined;
});

describe('draining', () => {
  it('keeps no listener of its own on the shutdown signal once a Graph call is done, so finished calls can be collected', async () => {
    const simulator = new GraphSimulator();
    const shutdown = new AbortController();
    const client = new GraphClient({
      baseUrl: await simulator.listen(),
      maxRetries: 1,
      maxRetryAfterS: 1,
      timeoutMs: 1000,
      deadlineMs: 5000,
      mailbox: { concurrency: 4, queueLimit: 100 },
      userAgent: 'test',
      signal: shutdown.signal,
    });
    simulator.fail({ status: 503, retryAfter: '0' });
    simulator.fail({ status: 404 });
    const listenersBefore = getEventListeners(shutdown.signal, 'abort').length;
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const call = { caller: 'Bearer t', graphAuthorization: 'Bearer t', clientRequestId: 'c', stats: { attempts: 0, upstreamStatus: null } };
        outcomes.push(
          await client.updateContactPhoto('i', 'c', { height: i }, call).then(
            () => 'OK',
            (error: unknown) => (error instanceof GatewayError ? error.code : String(error)),
          ),
        );
      }

      // The first call: a 503, retried, then a 404. The others succeed.
      expect(outcomes).toEqual(['NOT_FOUND', 'OK', 'OK', 'OK', 'OK']);
      expect(simulator.requests).toHaveLength(6);
      expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(listenersBefore);
    } finally {
      client.close();
      await simulator.close();
    }
  });

  it('lets a request in flight finish, answers /readyz 503 and /healthz 200 meanwhile, and refuses new GraphQL requests', async () => {
    const stack = (opened = await startStack({ env: { SHUTDOWN_GRACE_MS: '5000' } }));
    stack.simulator.fail({ delayMs: 400 });

    const port = Number(new URL(stack.url).port);
    // Requests whose connections were open before the drain; new connections are refused by then.
    const ready = await startRawRequest(port, 'GET', '/readyz');
    const health = await startRawRequest(port, 'GET', '/healthz');
    const graphql = await startRawRequest(port, 'POST', '/graphql', { 'content-type': 'application/json' }, '{"query":"{ __typename }"}');
    // The same route, spelt with a percent-encoded letter: refused all the same.
    const encoded = await startRawRequest(port, 'POST', '/%67raphql', { 'content-type': 'application/json' }, '{"query":"{ __typename }"}');
    const inFlight = postGraphQL(stack.url, UPDATE_PHOTO, variables, { token: 't' });
    await waitFor(() => stack.simulator.requests.length === 1);
    const stopped = stack.gateway.shutdown();

    const [readyAnswer, healthAnswer, refused, refusedEncoded] = await Promise.all([ready.finish(), health.finish(), graphql.finish(), encoded.finish()]);
    expect([readyAnswer.status, JSON.parse(readyAnswer.body)]).toEqual([503, { status: 'draining' }]);
    expect(healthAnswer.status).toBe(200);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('SHUTTING_DOWN');
    expect(refused.headers['connection']).toBe('close');
    expect([refusedEncoded.status, JSON.parse(refusedEncoded.body).errors[0].extensions.code]).toEqual([503, 'SHUTTING_DOWN']);

    const result = await inFlight;
    expect(result.body).toEqual({ data: { updateContactPhoto: { id: '360X360', height: 360, width: 360 } } });
    await stopped;
    await expect(fetch(stack.url, { method: 'POST' })).rejects.toThrow();
  });

  it('answers a request still running when the grace period ends with an error, not a dropped connection', async () => {
    const stack = (opened = await startStack({ env: { SHUTDOWN_GRACE_MS: '200', GRAPH_TIMEOUT_MS: '60000', GRAPH_DEADLINE_MS: '60000' } }));
    stack.simulator.fail({ hang: true });

    const inFlight = postGraphQL(stack.url, UPDATE_PHOTO, variables, { token: 't' });
    await waitFor(() => stack.simulator.requests.length === 1);
    const started = performance.now();
    await stack.gateway.shutdown();

    const result = await inFlight;
    expect(result.status).toBe(200);
    expect(result.body.data).toBeNull();
    expect(errorCode(result)).toBe('SHUTTING_DOWN');
    // The grace period is 200 ms; the attempt's own timeout would be 60 s.
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe('the compiled server (npm start)', () => {
  let simulator: GraphSimulator;
  let graphBaseUrl: string;
  beforeAll(async () => {
    simulator = new GraphSimulator();
    graphBaseUrl = await simulator.listen();
  });
  afterAll(() => simulator.close());

  it.each(['SIGTERM', 'SIGINT'] as const)('drains on %s and exits 0 after answering the request in flight', async (signal) => {
    const gateway = runCompiled('main.js', { PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graphBaseUrl, NODE_ENV: 'production' });
    await gateway.printed('gateway listening');
    const listening = gateway.output().split('\n').find((line) => line.includes('gateway listening'))!;
    const { url } = JSON.parse(listening) as { url: string };

    simulator.fail({ delayMs: 300 });
    const before = simulator.requests.length;
    const inFlight = postGraphQL(url, UPDATE_PHOTO, variables, { token: 'child-token' });
    await waitFor(() => simulator.requests.length > before);
    gateway.kill(signal);

    const result = await inFlight;
    expect(result.body.data).toEqual({ updateContactPhoto: { id: '360X360', height: 360, width: 360 } });
    expect(await gateway.exited).toBe(0);
    expect(gateway.output()).toContain('draining before exit');
    expect(gateway.output()).not.toContain('child-token');
  });

  it('stops with one clear line naming a bad configuration value, and exit code 1', async () => {
    const gateway = runCompiled('main.js', { PORT: '0', GRAPH_MAX_RETRIES: 'lots' });

    expect(await gateway.exited).toBe(1);
    expect(gateway.stderr()).toBe('Invalid configuration: GRAPH_MAX_RETRIES must be a whole number from 0 to 10 (got "lots").\n');
  });

  it.each([
    ['an unhandled rejection', 'rejection'],
    ['an uncaught exception', 'exception'],
  ])('logs %s without the token and exits 1, so that a supervisor restarts it', async (kind, crashKind) => {
    const gateway = runCompiled('main.js', { PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graphBaseUrl, CRASH_KIND: crashKind }, 'fail-on-sigusr2.mjs');
    await gateway.printed('gateway listening');

    gateway.kill('SIGUSR2');

    expect(await gateway.exited).toBe(1);
    const fatal = gateway
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string; stack: string } })
      .find((entry) => entry.level === 60);
    expect(fatal).toMatchObject({
      msg: `${kind.replace(/^an /, '')}: exiting`,
      err: { message: 'simulated bug while calling Graph with Authorization: Bearer [redacted]', stack: expect.stringContaining('fail-on-sigusr2.mjs') },
    });
    expect(gateway.output()).not.toContain('crash-secret-token');
  });
});
