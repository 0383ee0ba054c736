/**
 * `npm run bench`: every target side by side in one run, on loopback. Throughput and latency
 * run in alternating rounds (each round visits every target, in a rotated order) so that drift
 * of the machine hits all targets alike; the tables give medians over rounds.
 *
 * Settings (environment): BENCH_ROUNDS (5), BENCH_DURATION_S (5 per target and round),
 * BENCH_CONNECTIONS (100), BENCH_RATE (200 req/s for the latency run), BENCH_QUICK=1 (a short
 * run for trying the bench itself, not for figures), BENCH_ONLY=cpu, uploads, upload-bounds, lists, contacts-screen, sign-in or replicas
 * (that scenario alone).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { median, runLoad, runPaced, type LoadResult } from './load.js';
import { repoPath, rssMiB, type RunningProcess } from './processes.js';
import { formatReplicas, formatReport, formatUploads, type BenchResults } from './report.js';
import { formatCpu, runCpu } from './cpu.js';
import { formatContactsScreen, runContactsScreen } from './contacts-screen.js';
import { formatLists, runLists } from './lists.js';
import { runReplicas } from './replicas.js';
import { formatSignIn, runSignIn } from './sign-in.js';
import { runColdStart, runThrottled, startSimulatorProcess } from './scenarios.js';
import { TARGETS, type Target } from './targets.js';
import { runUploads } from './uploads.js';
import { formatUploadBounds, runUploadBounds } from './upload-bounds.js';

const quick = process.env['BENCH_QUICK'] === '1';
const settings = {
  rounds: Number(process.env['BENCH_ROUNDS'] ?? (quick ? 3 : 5)),
  durationS: Number(process.env['BENCH_DURATION_S'] ?? (quick ? 2 : 5)),
  warmUpS: quick ? 1 : 3,
  connections: Number(process.env['BENCH_CONNECTIONS'] ?? 100),
  rate: Number(process.env['BENCH_RATE'] ?? 200),
  latencyDurationS: quick ? 3 : 8,
  latencyRounds: quick ? 3 : 5,
  latencyWarmUpS: 1,
  coldStartRuns: 3,
};

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Each round visits every target; round r starts at target r, so no target is always first. */
function rotated<T>(items: readonly T[], round: number): T[] {
  return items.map((_, i) => items[(i + round) % items.length]!);
}

async function sideBySide(
  running: Map<Target, RunningProcess>,
  rounds: number,
  run: (target: Target, url: string) => Promise<LoadResult>,
): Promise<Map<Target, { loads: LoadResult[]; rss: number[] }>> {
  const results = new Map([...running.keys()].map((target) => [target, { loads: [] as LoadResult[], rss: [] as number[] }]));
  for (let round = 0; round < rounds; round++) {
    for (const target of rotated([...running.keys()], round)) {
      const instance = running.get(target)!;
      const load = await run(target, instance.url);
      const entry = results.get(target)!;
      entry.loads.push(load);
      if (instance.pid !== 0) entry.rss.push(rssMiB(instance.pid));
      log(`  round ${round + 1} ${target.name}: ${Math.round(load.requestsPerSecond)} req/s, p50 ${load.p50Ms.toFixed(2)} ms, p99 ${load.p99Ms.toFixed(2)} ms, errors ${load.errors}`);
    }
  }
  return results;
}

const simulator = await startSimulatorProcess();
log(`simulator: ${simulator.url}`);

/** The scenarios BENCH_ONLY runs alone (they start their own targets): each answers its report, or nothing when it could not run. */
const ALONE: Record<string, () => Promise<string | undefined>> = {
  replicas: async () => {
    const replicas = await runReplicas(simulator.url, log);
    return replicas && formatReplicas(replicas);
  },
  'upload-bounds': async () => formatUploadBounds(await runUploadBounds(simulator.url, log)),
  lists: async () => formatLists(await runLists(log)),
  'contacts-screen': async () => formatContactsScreen(await runContactsScreen(log)),
  'sign-in': async () => formatSignIn(await runSignIn(log)),
  uploads: async () => formatUploads(await runUploads(simulator.url, log)),
};
const only = process.env['BENCH_ONLY'];
const alone = only === undefined ? undefined : ALONE[only];
if (alone) {
  log(only!);
  const report = await alone();
  await simulator.stop();
  if (report) process.stdout.write(`${report}\n`);
  process.exit(report ? 0 : 1);
}

const running = new Map<Target, RunningProcess>();
for (const target of TARGETS) running.set(target, await target.start(simulator.url));

if (only === 'cpu') {
  log('CPU per call');
  const cpu = await runCpu(running, log);
  for (const instance of running.values()) await instance.stop();
  await simulator.stop();
  process.stdout.write(`${formatCpu(cpu)}\n`);
  process.exit(0);
}

log(`warm-up (${settings.warmUpS} s each)`);
for (const [target, instance] of running) {
  await runLoad(target.workload(instance.url), { connections: settings.connections, durationS: settings.warmUpS });
}

log(`throughput: ${settings.rounds} rounds x ${settings.durationS} s, ${settings.connections} connections`);
const throughput = await sideBySide(running, settings.rounds, (target, url) =>
  runLoad(target.workload(url), { connections: settings.connections, durationS: settings.durationS }),
);

log(`latency: ${settings.latencyRounds} rounds x ${settings.latencyDurationS} s at ${settings.rate} req/s`);
const latency = await sideBySide(running, settings.latencyRounds, (target, url) =>
  runPaced(target.workload(url), { rate: settings.rate, durationS: settings.latencyDurationS, warmUpS: settings.latencyWarmUpS }),
);

log(`CPU per call: ${settings.rounds} rounds at a fixed rate`);
const cpu = await runCpu(running, log);

for (const instance of running.values()) await instance.stop();

log('throttled mailbox');
const throttled = [];
for (const target of TARGETS.filter((candidate) => candidate.graphql)) throttled.push(await runThrottled(target, 3));

log('cold start');
const coldStart = [];
for (const target of TARGETS.filter((candidate) => candidate.graphql)) {
  coldStart.push(await runColdStart(target, simulator.url, settings.coldStartRuns));
}

log('uploads');
const uploads = await runUploads(simulator.url, log);
log('upload bounds');
const uploadBounds = await runUploadBounds(simulator.url, log);
log('contact lists');
const lists = await runLists(log);
log('contacts screen');
const contactsScreen = await runContactsScreen(log);
log('sign-in');
const signIn = await runSignIn(log);
log('replicas');
const replicas = await runReplicas(simulator.url, log);
await simulator.stop();

const results: BenchResults = {
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', platform: `${os.platform()} ${os.release()}` },
  settings,
  throughput: [...throughput].map(([target, { loads, rss }]) => ({
    target: target.name,
    requestsPerSecond: median(loads.map((load) => load.requestsPerSecond)),
    p50Ms: median(loads.map((load) => load.p50Ms)),
    p99Ms: median(loads.map((load) => load.p99Ms)),
    errors: loads.reduce((sum, load) => sum + load.errors, 0),
    rssMiB: rss.length > 0 ? median(rss) : null,
    rounds: loads.map((load) => Math.round(load.requestsPerSecond)),
  })),
  latency: [...latency].map(([target, { loads }]) => ({
    target: target.name,
    p50Ms: median(loads.map((load) => load.p50Ms)),
    p99Ms: median(loads.map((load) => load.p99Ms)),
    errors: loads.reduce((sum, load) => sum + load.errors, 0),
    p99MsRounds: loads.map((load) => Math.round(load.p99Ms * 100) / 100),
    p50MsRounds: loads.map((load) => Math.round(load.p50Ms * 100) / 100),
  })),
  throttled,
  coldStart,
  uploads,
  uploadBounds,
  cpu,
  lists,
  contactsScreen,
  signIn,
  ...(replicas && { replicas }),
};

const report = formatReport(results);
process.stdout.write(`${report}\n`);
mkdirSync(repoPath('bench/results'), { recursive: true });
const file = repoPath(`bench/results/${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
log(`results written to ${file}`);
