/**
 * The five targets of `npm run bench`, each started as its own process in front of the
 * simulator, and the workload that drives each one.
 */
import type { Workload } from './load.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoPath, startProcess, type RunningProcess } from './processes.js';

export type TargetName = 'direct REST' | 'bare forwarder (limit)' | 'naive baseline' | 'RESTDataSource peer' | 'this gateway' | 'compare build';

export interface Target {
  name: TargetName;
  /**
   * Starts the target in front of `graphBaseUrl`; `direct REST` is the simulator itself. `env`
   * is for this gateway's settings (the references have none).
   */
  start(graphBaseUrl: string, env?: Record<string, string>): Promise<RunningProcess>;
  workload(url: string): Workload;
  /** Whether this target is a GraphQL gateway (for the scenarios that only gateways take part in). */
  graphql: boolean;
}

/** Calls rotate over this many mailboxes (`invitationId`s), as traffic from many users does. */
export const MAILBOXES = 1000;

const LISTENING = /listening (\S+)/;
const GATEWAY_LISTENING = /"url":"([^"]+)"[^\n]*"msg":"gateway listening"/;

/**
 * This gateway (or the build `main` names) as its own process, in its production configuration:
 * NODE_ENV=production, info logs (read and dropped by the runner), and `env` on top.
 */
export function startGatewayProcess(graphBaseUrl: string, env: Record<string, string> = {}, main = process.env['BENCH_GATEWAY'] ?? 'dist/main.js'): Promise<RunningProcess> {
  // As npm start does: libuv's thread pool sized first, where the build has the preload (older builds did not).
  const threadPool = join(dirname(repoPath(main)), 'threadpool.cjs');
  const nodeArgs = existsSync(threadPool) ? ['--require', threadPool] : [];
  return startProcess(main, { GRAPH_BASE_URL: graphBaseUrl, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', ...env }, GATEWAY_LISTENING, nodeArgs);
}

const UPDATE = 'mutation UpdateContactPhoto($invitationId: ID!, $contactId: ID!, $input: ProfilePhotoInput!) { updateContactPhoto(invitationId: $invitationId, contactId: $contactId, input: $input) { id height width } }';

function callOf(n: number) {
  const mailbox = n % MAILBOXES;
  return { invitationId: `bench-mailbox-${mailbox}`, contactId: `bench-contact-${mailbox}`, size: (n % 500) + 1 };
}

/** A new object per request: autocannon writes `content-length` into the headers it is given. */
const jsonHeaders = () => ({ 'content-type': 'application/json', authorization: 'Bearer bench-token' });

function graphqlWorkload(url: string): Workload {
  const path = new URL(url).pathname;
  return {
    url,
    request(n) {
      const { invitationId, contactId, size } = callOf(n);
      const body = JSON.stringify({ query: UPDATE, variables: { invitationId, contactId, input: { height: size, width: size } } });
      return { method: 'POST', path, body, headers: jsonHeaders() };
    },
    isSuccess: (body) => body.startsWith('{"data":{"updateContactPhoto":{"id"'),
  };
}

const photoIsSuccess = (body: string) => body.includes('"id":"');

export const TARGETS: readonly Target[] = [
  {
    name: 'direct REST',
    graphql: false,
    // The simulator is already running: this target is the upstream alone.
    start: (graphBaseUrl) => Promise.resolve({ url: graphBaseUrl, pid: 0, startedMs: 0, stop: () => Promise.resolve() }),
    workload(url) {
      const base = new URL(url).pathname;
      return {
        url,
        request(n) {
          const { invitationId, contactId, size } = callOf(n);
          return {
            method: 'PATCH',
            path: `${base}/invitations/${invitationId}/invitedUser/contacts/${contactId}/photo`,
            body: JSON.stringify({ '@odata.type': '#microsoft.graph.profilePhoto', height: size, width: size }),
            headers: jsonHeaders(),
          };
        },
        isSuccess: photoIsSuccess,
      };
    },
  },
  {
    name: 'bare forwarder (limit)',
    graphql: false,
    start: (graphBaseUrl) => startProcess('build/bench/targets/bare-forwarder.js', { GRAPH_BASE_URL: graphBaseUrl }, LISTENING),
    workload(url) {
      return {
        url,
        request(n) {
          const { invitationId, contactId, size } = callOf(n);
          const body = JSON.stringify({ invitationId, contactId, input: { height: size, width: size } });
          return { method: 'POST', path: '/', body, headers: jsonHeaders() };
        },
        isSuccess: photoIsSuccess,
      };
    },
  },
  {
    name: 'naive baseline',
    graphql: true,
    start: (graphBaseUrl) => startProcess('build/bench/baseline/naive-gateway.js', { GRAPH_BASE_URL: graphBaseUrl }, LISTENING),
    workload: graphqlWorkload,
  },
  {
    name: 'RESTDataSource peer',
    graphql: true,
    start: (graphBaseUrl) => startProcess('build/bench/baseline/datasource-gateway.js', { GRAPH_BASE_URL: graphBaseUrl }, LISTENING),
    workload: graphqlWorkload,
  },
  {
    name: 'this gateway',
    graphql: true,
    // BENCH_GATEWAY names another build's main.js, e.g. an older commit's, for a before/after table.
    start: (graphBaseUrl, env) => startGatewayProcess(graphBaseUrl, env),
    workload: graphqlWorkload,
  },
  // BENCH_COMPARE_GATEWAY names another build's main.js (an older commit's, built in a worktree),
  // BENCH_COMPARE_ENV settings for it as JSON (this build's, when alone: an A/B of one setting,
  // e.g. '{"GRAPH_BATCH_MAX":"1"}'; not LOG_LEVEL above info, as its "gateway listening" line is
  // how the bench knows it is up): it then runs side by side with this gateway, in the same rounds.
  ...(process.env['BENCH_COMPARE_GATEWAY'] !== undefined || process.env['BENCH_COMPARE_ENV'] !== undefined
    ? [
        {
          name: 'compare build' as const,
          graphql: true,
          start: (graphBaseUrl: string, env?: Record<string, string>) =>
            startGatewayProcess(graphBaseUrl, { ...compareEnv(), ...env }, process.env['BENCH_COMPARE_GATEWAY']),
          workload: graphqlWorkload,
        },
      ]
    : []),
];

function compareEnv(): Record<string, string> {
  const json = process.env['BENCH_COMPARE_ENV'];
  return json === undefined ? {} : (JSON.parse(json) as Record<string, string>);
}
