/**
 * `npm run bench:profile`: where each call's CPU goes, by layer. This gateway and the
 * RESTDataSource peer each run with V8's sampling profiler (through `node:inspector`, started
 * after the warm-up and stopped at the end, so start-up is not in it) at the CPU scenario's
 * fixed rate (400 calls/s for 10 s) in front of the simulator; each profile's samples are grouped
 * by the layer their code belongs to (Fastify, the Apollo integration, Apollo's request
 * pipeline, graphql-js, our code by folder, logging, metrics, got, Node's HTTP client, ...), and
 * each layer's share is turned into microseconds per call with the process's own CPU time
 * (/proc/PID/stat, whose system part is the kernel's). Prints one markdown table.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CPU, measureCpuPerCall } from './cpu.js';
import { startSimulatorProcess } from './scenarios.js';
import { TARGETS, type TargetName } from './targets.js';

const RATE = Number(process.env['BENCH_CPU_RATE'] ?? 400);
const DURATION_S = 10;
const PROFILED: readonly TargetName[] = ['this gateway', 'RESTDataSource peer'];

/**
 * Loaded into each target (`--import`): SIGUSR2 starts the profiler, SIGTERM stops it, writes the
 * profile to BENCH_PROFILE_FILE and exits.
 */
const PROFILER = `
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
const session = new Session();
session.connect();
process.on('SIGUSR2', async () => { await session.post('Profiler.enable'); await session.post('Profiler.start'); });
process.on('SIGTERM', async () => {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(process.env.BENCH_PROFILE_FILE, JSON.stringify(profile));
  process.exit(0);
});
`;

/** Layers, first match wins, by the URL of the function a sample was in. */
const LAYERS: Array<[string, RegExp]> = [
  ['Fastify', /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|fast-json-stringify|fast-querystring|toad-cache)\//],
  ['Apollo ⇄ Fastify integration', /node_modules\/@as-integrations\/fastify\//],
  ['Apollo request pipeline', /node_modules\/@apollo\/(server|utils\.[a-z]+)\//],
  ['graphql-js', /node_modules\/graphql\//],
  ['operation limits (graphql-armor)', /node_modules\/@escape\.tech\//],
  ['logging (pino)', /node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|on-exit-leak-free)\//],
  ['metrics (prom-client)', /node_modules\/(prom-client|tdigest|bintrees)\//],
  ['got', /node_modules\/(got|@sindresorhus|@szmarczak|cacheable-lookup|cacheable-request|http2-wrapper|responselike|lowercase-keys|decompress-response|form-data-encoder|p-cancelable|mimic-response|normalize-url|keyv|get-stream|defer-to-connect)\//],
  ['RESTDataSource (and its fetch)', /node_modules\/(@apollo\/datasource-rest|node-fetch|whatwg-url|lodash\.|@apollo\/utils\.fetcher)/],
  ['undici', /node_modules\/undici\/|node:internal\/deps\/undici/],
  ['OpenTelemetry API', /node_modules\/@opentelemetry\//],
  ['our mailbox scheduler', /dist\/graph\/(mailbox-scheduler|fair-queue|retry-policy)\.js/],
  ['our Graph client', /dist\/graph\//],
  ['our plugins and server', /dist\/(server|auth)\//],
  ['our resolvers and limits', /dist\/schema\//],
  ['our metrics', /dist\/metrics\//],
  ['our other code', /\/dist\/|build\/bench\//],
  ['Node: HTTP, net, streams', /node:(internal\/)?(_http|http|https|net|stream|internal\/streams|tls|_tls|dns|internal\/http|internal\/net|internal\/stream_base_commons|events|internal\/event_target|internal\/timers|timers)/],
  ['Node: other', /^node:/],
  ['other packages', /node_modules\//],
];

interface Profile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

function layerOf(url: string, functionName: string): string | undefined {
  if (functionName === '(idle)') return undefined;
  if (functionName === '(garbage collector)') return 'V8: garbage collection';
  if (url === '') return functionName === '(program)' ? 'V8 and native (program)' : 'native builtins';
  return LAYERS.find(([, pattern]) => pattern.test(url))?.[0] ?? 'other';
}

/**
 * Self time per layer, in microseconds, idle left out. Time in V8's builtins (`JSON.parse`, a
 * `Map` look-up: functions without a URL) goes to the code that called them.
 */
function layers(profile: Profile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const totals = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    let node = byId.get(id)!;
    const { functionName } = node.callFrame;
    if (node.callFrame.url === '' && !functionName.startsWith('(')) {
      while (node.callFrame.url === '' && parentOf.has(node.id)) node = byId.get(parentOf.get(node.id)!)!;
    }
    const layer = layerOf(node.callFrame.url, node.callFrame.url === '' ? functionName : node.callFrame.functionName);
    if (layer === undefined) return;
    totals.set(layer, (totals.get(layer) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  return totals;
}

const simulator = await startSimulatorProcess();
const tables: string[] = [];
for (const name of PROFILED) {
  const target = TARGETS.find((candidate) => candidate.name === name)!;
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-profile-'));
  const file = join(dir, 'profile.cpuprofile');
  process.env['BENCH_NODE_ARGS'] = `--import=data:text/javascript,${encodeURIComponent(PROFILER)}`;
  process.env['BENCH_PROFILE_FILE'] = file;
  const instance = await target.start(simulator.url);
  delete process.env['BENCH_NODE_ARGS'];
  const load = target.workload(instance.url);
  const { us: usPerCall, systemShare } = await measureCpuPerCall(instance.pid, load, {
    rate: RATE,
    durationS: DURATION_S,
    // As in the CPU scenario: compiled first, so that the profile is of the calls, not of V8's compiler.
    warmUpS: CPU.firstWarmUpS,
    beforeMeasuring: () => process.kill(instance.pid, 'SIGUSR2'),
  });
  await instance.stop('SIGTERM');
  const totals = layers(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  // BENCH_PROFILE_KEEP=1 keeps the profile, e.g. to open it in Chrome's DevTools.
  if (process.env['BENCH_PROFILE_KEEP'] === '1') process.stderr.write(`${name}: ${file}\n`);
  else rmSync(dir, { recursive: true, force: true });
  // The sampler's own cost is in the process's CPU time too: the shares are what the profile says.
  const sampled = [...totals.values()].reduce((sum, value) => sum + value, 0);
  const userUs = usPerCall * (1 - systemShare);
  const rows = [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([layer, us]) => `| ${layer} | ${((100 * us) / sampled).toFixed(1)} % | ${((userUs * us) / sampled).toFixed(0)} |`);
  tables.push(
    [
      `#### ${name}: ${usPerCall.toFixed(0)} µs CPU per call at ${RATE} calls/s (${(systemShare * 100).toFixed(0)} % of it in the kernel)`,
      '',
      '| layer | share of user CPU samples | µs per call |',
      '| --- | --- | --- |',
      ...rows,
      `| the kernel (system time, /proc) | | ${(usPerCall * systemShare).toFixed(0)} |`,
    ].join('\n'),
  );
}
await simulator.stop();
process.stdout.write(`${tables.join('\n\n')}\n`);
