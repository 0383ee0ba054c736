/**
 * The benchmark's results as markdown tables, with the targets checked against them.
 */
import { formatCpu, type CpuResult } from './cpu.js';
import { formatContactsScreen, type ContactsScreenResult } from './contacts-screen.js';
import { formatLists, type ListResult } from './lists.js';
import { formatSignIn, type SignInResult } from './sign-in.js';
import { formatUploadBounds, type UploadBoundsResult } from './upload-bounds.js';
import { THROTTLE, THROTTLE_LIMIT_MS, type ColdStartResult, type ThrottledResult } from './scenarios.js';
import { median } from './load.js';
import type { TargetName } from './targets.js';
import { REPLICAS, REPLICAS_LIMIT_MS, type ReplicasResult } from './replicas.js';
import { UPLOADS, type UploadResult } from './uploads.js';

export interface BenchResults {
  date: string;
  machine: { node: string; cpus: number; cpuModel: string; platform: string };
  settings: Record<string, number>;
  throughput: Array<{
    target: TargetName;
    requestsPerSecond: number;
    p50Ms: number;
    p99Ms: number;
    errors: number;
    rssMiB: number | null;
    /** req/s of each round, in order, to show the spread. */
    rounds: number[];
  }>;
  latency: Array<{
    target: TargetName;
    p50Ms: number;
    p99Ms: number;
    errors: number;
    /** p99 of each round, in order, to show the spread (absent in results from before it was kept). */
    p99MsRounds?: number[];
    /** p50 of each round, in order (absent in results from before it was kept). */
    p50MsRounds?: number[];
  }>;
  throttled: ThrottledResult[];
  coldStart: ColdStartResult[];
  /** Absent in results from before the upload scenario. */
  uploads?: UploadResult;
  /** Absent in results from before the picture path's bounds. */
  uploadBounds?: UploadBoundsResult;
  /** Absent in results from before the contact-list scenario. */
  lists?: ListResult[];
  contactsScreen?: ContactsScreenResult;
  /** Absent in results from before the CPU-per-call scenario. */
  cpu?: CpuResult;
  /** Absent in results from before the sign-in scenario. */
  signIn?: SignInResult;
  /** Absent without redis-server, and in results from before the replica scenario. */
  replicas?: ReplicasResult;
}

const ms = (value: number) => value.toFixed(2);
const ratio = (value: number) => `${value.toFixed(2)}x`;

function table(header: string[], rows: Array<Array<string | number>>): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function byName<T extends { target: string }>(rows: T[], name: TargetName): T {
  return rows.find((row) => row.target === name)!;
}

export function formatReport(results: BenchResults): string {
  const { throughput, latency, throttled, coldStart, settings, machine } = results;
  const limit = byName(throughput, 'bare forwarder (limit)');
  const direct = byName(latency, 'direct REST');
  const gateway = byName(throughput, 'this gateway');
  const naive = byName(throughput, 'naive baseline');
  const peer = byName(throughput, 'RESTDataSource peer');
  const gatewayLatency = byName(latency, 'this gateway');
  const gatewayThrottled = byName(throttled, 'this gateway');
  const gatewayCold = byName(coldStart, 'this gateway');
  const naiveCold = byName(coldStart, 'naive baseline');

  const addedP50 = gatewayLatency.p50Ms - direct.p50Ms;
  const addedP99 = gatewayLatency.p99Ms - direct.p99Ms;
  const checks: Array<[string, string, boolean]> = [
    ['throughput >= 1.25x naive baseline', ratio(gateway.requestsPerSecond / naive.requestsPerSecond), gateway.requestsPerSecond >= 1.25 * naive.requestsPerSecond],
    ['throughput above the RESTDataSource peer', ratio(gateway.requestsPerSecond / peer.requestsPerSecond), gateway.requestsPerSecond > peer.requestsPerSecond],
    ['0 errors under load', String(gateway.errors), gateway.errors === 0],
    [`added p50 at ${settings['rate']} req/s <= 1 ms`, `${ms(addedP50)} ms`, addedP50 <= 1],
    [`added p99 at ${settings['rate']} req/s <= 3 ms`, `${ms(addedP99)} ms`, addedP99 <= 3],
    ['throttled mailbox: 100/100 succeed', `${gatewayThrottled.successes}/${THROTTLE.calls}`, gatewayThrottled.successes === THROTTLE.calls],
    ['throttled mailbox: 0 upstream 429s', String(gatewayThrottled.upstream429s), gatewayThrottled.upstream429s === 0],
    [`throttled mailbox: wall <= 1.25x ${THROTTLE_LIMIT_MS} ms`, `${Math.round(gatewayThrottled.wallMs)} ms (${ratio(gatewayThrottled.wallMs / THROTTLE_LIMIT_MS)})`, gatewayThrottled.wallMs <= 1.25 * THROTTLE_LIMIT_MS],
    ['cold start <= 1.5 s', `${Math.round(gatewayCold.firstAnswerMs)} ms`, gatewayCold.firstAnswerMs <= 1500],
    ['RSS after one request <= 1.2x naive', `${gatewayCold.rssMiB.toFixed(1)} / ${naiveCold.rssMiB.toFixed(1)} MiB (${ratio(gatewayCold.rssMiB / naiveCold.rssMiB)})`, gatewayCold.rssMiB <= 1.2 * naiveCold.rssMiB],
    ...(results.uploads ? uploadChecks(results.uploads) : []),
    ...(results.replicas ? replicaChecks(results.replicas) : []),
    ...compareChecks(results),
  ];

  return [
    `## Benchmark ${results.date}`,
    '',
    `Node ${machine.node}, ${machine.cpus} x ${machine.cpuModel}, ${machine.platform}. Medians of ${settings['rounds']} alternating rounds of ${settings['durationS']} s at ${settings['connections']} connections; calls spread over 1,000 mailboxes.`,
    '',
    '### Throughput',
    '',
    table(
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'RSS MiB', 'ratio to limit', 'req/s by round'],
      throughput.map((row) => [
        row.target,
        Math.round(row.requestsPerSecond),
        ms(row.p50Ms),
        ms(row.p99Ms),
        row.errors,
        row.rssMiB === null ? '(upstream)' : row.rssMiB.toFixed(1),
        ratio(row.requestsPerSecond / limit.requestsPerSecond),
        row.rounds.join(', '),
      ]),
    ),
    '',
    `### Latency at a fixed ${settings['rate']} req/s`,
    '',
    table(
      ['target', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'errors', 'p99 ms by round'],
      latency.map((row) => [
        row.target,
        ms(row.p50Ms),
        ms(row.p99Ms),
        ms(row.p50Ms - direct.p50Ms),
        ms(row.p99Ms - direct.p99Ms),
        row.errors,
        (row.p99MsRounds ?? []).map(ms).join(', '),
      ]),
    ),
    '',
    `### One throttled mailbox: ${THROTTLE.calls} concurrent updates, Outlook's limit of ${THROTTLE.concurrency} in flight, ${THROTTLE.latencyMs} ms each (physical limit ${THROTTLE_LIMIT_MS} ms)`,
    '',
    table(
      ['target', 'successes', 'upstream 429s', 'wall ms', 'wall / limit'],
      throttled.map((row) => [row.target, `${row.successes}/${THROTTLE.calls}`, row.upstream429s, Math.round(row.wallMs), ratio(row.wallMs / THROTTLE_LIMIT_MS)]),
    ),
    '',
    '### Cold start',
    '',
    table(
      ['target', 'first answered mutation ms', 'RSS after it MiB'],
      coldStart.map((row) => [row.target, Math.round(row.firstAnswerMs), row.rssMiB.toFixed(1)]),
    ),
    '',
    ...(results.uploads ? [formatUploads(results.uploads), ''] : []),
    ...(results.uploadBounds ? [formatUploadBounds(results.uploadBounds), ''] : []),
    ...(results.cpu ? [formatCpu(results.cpu), ''] : []),
    ...(results.lists ? [formatLists(results.lists), ''] : []),
    ...(results.contactsScreen ? [formatContactsScreen(results.contactsScreen), ''] : []),
    ...(results.signIn ? [formatSignIn(results.signIn), ''] : []),
    ...(results.replicas ? [formatReplicas(results.replicas), ''] : []),
    '### Targets',
    '',
    table(
      ['target', 'measured', 'met'],
      checks.map(([name, value, met]) => [name, value, met ? 'yes' : '**no**']),
    ),
  ].join('\n');
}

function uploadChecks(uploads: UploadResult): Array<[string, string, boolean]> {
  return [
    ['uploads: processing <= 1.3x sharp alone', `${ms(uploads.gatewayProcessingMs)} / ${ms(uploads.sharpAloneMs)} ms (${ratio(uploads.gatewayProcessingMs / uploads.sharpAloneMs)})`, uploads.gatewayProcessingMs <= 1.3 * uploads.sharpAloneMs],
    [`uploads: peak RSS <= 400 MiB with ${UPLOADS.burst} at once`, `${uploads.burstPeakRssMiB.toFixed(0)} MiB`, uploads.burstPeakRssMiB <= 400],
    ['uploads: 0 errors', String(uploads.errors), uploads.errors === 0],
  ];
}

/** The upload scenario's section, with its own targets (also printed alone by `BENCH_ONLY=uploads`). */
export function formatUploads(uploads: UploadResult): string {
  return [
    `### Uploads: ${UPLOADS.width} x ${UPLOADS.height} JPEGs of ${uploads.imageMB.toFixed(2)} MB, made into 648 px JPEGs`,
    '',
    table(
      ['measure', 'value'],
      [
        [`uploads/s at ${UPLOADS.concurrency} concurrent`, uploads.uploadsPerSecond.toFixed(1)],
        ['latency p50 / p99 ms', `${Math.round(uploads.p50Ms)} / ${Math.round(uploads.p99Ms)}`],
        [`gateway peak RSS, ${UPLOADS.concurrency} concurrent`, `${uploads.peakRssMiB.toFixed(0)} MiB`],
        [`gateway peak RSS, ${UPLOADS.burst} at once (fresh process)`, `${uploads.burstPeakRssMiB.toFixed(0)} MiB`],
        ['processing per image: gateway (its own measure), one at a time', `${ms(uploads.gatewayProcessingMs)} ms`],
        ['the same conversion by sharp alone, one at a time', `${ms(uploads.sharpAloneMs)} ms`],
        ['errors', uploads.errors],
      ],
    ),
    '',
    table(
      ['target', 'measured', 'met'],
      uploadChecks(uploads).map(([name, value, met]) => [name, value, met ? 'yes' : '**no**']),
    ),
  ].join('\n');
}

/**
 * With a compare build in the run: this gateway against it, as the median of the per-round
 * ratios (both ran in each round, one after the other, so each ratio sees the same machine).
 */
function compareChecks(results: BenchResults): Array<[string, string, boolean]> {
  const before = results.throughput.find((row) => row.target === 'compare build');
  const beforeLatency = results.latency.find((row) => row.target === 'compare build');
  if (!before || !beforeLatency) return [];
  const gateway = byName(results.throughput, 'this gateway');
  const gatewayLatency = byName(results.latency, 'this gateway');
  const perRound = (ours: number[], theirs: number[]) => median(ours.map((value, round) => value / theirs[round]!));
  const throughput = perRound(gateway.rounds, before.rounds);
  const p50 = perRound(gatewayLatency.p50MsRounds ?? [], beforeLatency.p50MsRounds ?? []);
  return [
    ['throughput vs the compare build, median of per-round ratios (>= 0.9x)', `${ratio(throughput)} (${gateway.rounds.map((value, round) => (value / before.rounds[round]!).toFixed(2)).join(', ')})`, throughput >= 0.9],
    ['p50 at the fixed rate vs the compare build, median of per-round ratios (<= 1.1x)', ratio(p50), p50 <= 1.1],
  ];
}


function replicaChecks(replicas: ReplicasResult): Array<[string, string, boolean]> {
  const ratios = replicas.withRedisRounds.map((value, round) => value / replicas.withoutRedisRounds[round]!);
  const throughput = median(ratios);
  return [
    [`3 replicas with Redis: ${REPLICAS.calls}/${REPLICAS.calls} succeed`, `${replicas.shared.successes}/${REPLICAS.calls}`, replicas.shared.successes === REPLICAS.calls],
    ['3 replicas with Redis: 0 upstream 429s', String(replicas.shared.upstream429s), replicas.shared.upstream429s === 0],
    [`3 replicas with Redis: wall <= 1.25x ${REPLICAS_LIMIT_MS} ms`, `${Math.round(replicas.shared.wallMs)} ms (${ratio(replicas.shared.wallMs / REPLICAS_LIMIT_MS)})`, replicas.shared.wallMs <= 1.25 * REPLICAS_LIMIT_MS],
    ['throughput with Redis >= 0.9x without (1,000 mailboxes)', `${ratio(throughput)} (${ratios.map((value) => value.toFixed(2)).join(', ')})`, throughput >= 0.9],
  ];
}

/** The replica scenario's section (also printed alone by `BENCH_ONLY=replicas`). */
export function formatReplicas(replicas: ReplicasResult): string {
  const row = (name: string, burst: ReplicasResult['shared']) => [name, `${burst.successes}/${REPLICAS.calls}`, burst.upstream429s, Math.round(burst.wallMs), ratio(burst.wallMs / REPLICAS_LIMIT_MS)];
  return [
    `### ${REPLICAS.count} replicas, ${REPLICAS.calls} concurrent updates to one mailbox (physical limit ${REPLICAS_LIMIT_MS} ms)`,
    '',
    table(['replicas', 'successes', 'upstream 429s', 'wall ms', 'wall / limit'], [row('sharing the limit through Redis', replicas.shared), row('sharing it through a Redis Cluster (3 masters)', replicas.onCluster), row('each with its own limit', replicas.perProcess)]),
    '',
    `One gateway with Redis and one without, over 1,000 mailboxes, req/s by round: with ${replicas.withRedisRounds.join(', ')}; without ${replicas.withoutRedisRounds.join(', ')}.`,
    '',
    table(
      ['target', 'measured', 'met'],
      replicaChecks(replicas).map(([name, value, met]) => [name, value, met ? 'yes' : '**no**']),
    ),
  ].join('\n');
}
