/**
 * CPU time per answered call (`BENCH_ONLY=cpu npm run bench`, and in the full run): each
 * target at a fixed rate well below saturation (400 calls/s by default), in the same rounds, the
 * targets taking turns in 1-second slices in a rotated order. The figure is the target process's
 * user + system time (all its threads, from /proc/PID/stat) over its slices, divided by the calls
 * answered: what a call costs, whatever else the machine did that second, which req/s at
 * saturation cannot say on 2 shared vCPUs. Ratios to the baselines are taken per round, then
 * their median: every target saw the same machine in a round.
 */
import { median, runPaced, type LoadResult, type Workload } from './load.js';
import { cpuTimes, type RunningProcess } from './processes.js';
import type { Target, TargetName } from './targets.js';

export const CPU = {
  rate: Number(process.env['BENCH_CPU_RATE'] ?? 400),
  durationS: Number(process.env['BENCH_CPU_DURATION_S'] ?? 8),
  warmUpS: 1,
  /**
   * Seconds at the rate for each target before the first round, not measured: until V8 has
   * compiled the hot path (on its background threads, which /proc counts too), the first round
   * measured the compiler as much as the calls, and more of it for a target with more code.
   */
  firstWarmUpS: Number(process.env['BENCH_CPU_WARMUP_S'] ?? 5),
  rounds: Math.max(5, Number(process.env['BENCH_CPU_ROUNDS'] ?? 5)),
  /**
   * A round gives each target its seconds in slices of this length, the targets taking turns
   * slice by slice: whatever else this shared machine does for a few seconds (it moved one
   * target's figure by 50% between the 8-second turns of a round) falls on every target alike.
   */
  sliceS: Number(process.env['BENCH_CPU_SLICE_S'] ?? 1),
} as const;

const BASELINES: readonly TargetName[] = ['RESTDataSource peer', 'naive baseline'];

export interface CpuResult {
  rate: number;
  durationS: number;
  targets: Array<{ target: TargetName; medianUs: number; roundsUs: number[]; errors: number }>;
  /** For each target, its ratio to each baseline: the median of the per-round ratios, and each round's. */
  ratios: Array<{ target: TargetName; baseline: TargetName; median: number; rounds: number[] }>;
}

export interface CpuMeasurement {
  /** The process's CPU microseconds per answered call, user and system together. */
  us: number;
  /** The part of that CPU time spent in the kernel (system time). */
  systemShare: number;
  result: LoadResult;
}

/**
 * One measurement of the process `pid`: a paced warm-up that is not counted (connections opened,
 * code warm), then `durationS` at `rate`, its CPU time read from /proc before and after.
 * `beforeMeasuring` runs between the two (the profiler starts its sampling there).
 */
export async function measureCpuPerCall(
  pid: number,
  load: Workload,
  options: { rate: number; durationS: number; warmUpS: number; beforeMeasuring?: () => void },
): Promise<CpuMeasurement> {
  await runPaced(load, { rate: options.rate, durationS: options.warmUpS, warmUpS: 0 });
  options.beforeMeasuring?.();
  const before = cpuTimes(pid);
  const result = await runPaced(load, { rate: options.rate, durationS: options.durationS, warmUpS: 0 });
  const after = cpuTimes(pid);
  const user = after.user - before.user;
  const system = after.system - before.system;
  return { us: ((user + system) * 1e6) / Math.max(1, result.requests - result.errors), systemShare: system / Math.max(1e-9, user + system), result };
}

export async function runCpu(running: ReadonlyMap<Target, RunningProcess>, log: (line: string) => void): Promise<CpuResult> {
  // The upstream alone (direct REST) has no process of its own to measure.
  const measured = [...running].filter(([, instance]) => instance.pid !== 0);
  const samples = new Map<TargetName, { us: number[]; errors: number }>(measured.map(([target]) => [target.name, { us: [], errors: 0 }]));
  for (const [target, instance] of measured) await runPaced(target.workload(instance.url), { rate: CPU.rate, durationS: CPU.firstWarmUpS, warmUpS: 0 });
  const slices = Math.max(1, Math.round(CPU.durationS / CPU.sliceS));
  for (let round = 0; round < CPU.rounds; round++) {
    const totals = new Map<TargetName, { cpuS: number; calls: number; errors: number }>(measured.map(([target]) => [target.name, { cpuS: 0, calls: 0, errors: 0 }]));
    for (let slice = 0; slice < slices; slice++) {
      for (let step = 0; step < measured.length; step++) {
        const [target, instance] = measured[(step + round + slice) % measured.length]!;
        const before = cpuTimes(instance.pid);
        const result = await runPaced(target.workload(instance.url), { rate: CPU.rate, durationS: CPU.durationS / slices, warmUpS: 0 });
        const after = cpuTimes(instance.pid);
        const total = totals.get(target.name)!;
        total.cpuS += after.user - before.user + (after.system - before.system);
        total.calls += result.requests - result.errors;
        total.errors += result.errors;
      }
    }
    for (const [name, total] of totals) {
      const us = (total.cpuS * 1e6) / Math.max(1, total.calls);
      const entry = samples.get(name)!;
      entry.us.push(us);
      entry.errors += total.errors;
      log(`  round ${round + 1} ${name}: ${us.toFixed(0)} µs CPU per call, errors ${total.errors}`);
    }
  }
  const names = [...samples.keys()];
  const ratios: CpuResult['ratios'] = [];
  // With a compare build, it is judged against this gateway too.
  const baselines: TargetName[] = [...BASELINES, ...(samples.has('compare build') ? ['this gateway' as const] : [])];
  for (const baseline of baselines.filter((name) => samples.has(name))) {
    for (const target of names.filter((name) => name !== baseline && (baseline !== 'this gateway' || name === 'compare build'))) {
      const rounds = samples.get(target)!.us.map((us, index) => us / samples.get(baseline)!.us[index]!);
      ratios.push({ target, baseline, median: median(rounds), rounds });
    }
  }
  return {
    rate: CPU.rate,
    durationS: CPU.durationS,
    targets: names.map((target) => ({ target, medianUs: median(samples.get(target)!.us), roundsUs: samples.get(target)!.us, errors: samples.get(target)!.errors })),
    ratios,
  };
}

export function formatCpu(result: CpuResult): string {
  const ratioOf = (target: TargetName, baseline: TargetName) => result.ratios.find((entry) => entry.target === target && entry.baseline === baseline);
  const peer = ratioOf('this gateway', 'RESTDataSource peer');
  const naive = ratioOf('this gateway', 'naive baseline');
  const compared = ratioOf('compare build', 'this gateway');
  const spread = (values: number[]) => `${Math.min(...values).toFixed(3)} to ${Math.max(...values).toFixed(3)}`;
  return [
    `### CPU per answered call at ${result.rate} calls/s (${result.targets[0]?.roundsUs.length ?? 0} rounds of ${result.durationS} s)`,
    '',
    '| target | µs per call (median) | rounds | vs RESTDataSource (median of rounds) | vs naive (median of rounds) | errors |',
    '| --- | --- | --- | --- | --- | --- |',
    ...result.targets.map((entry) => {
      const toPeer = ratioOf(entry.target, 'RESTDataSource peer');
      const toNaive = ratioOf(entry.target, 'naive baseline');
      return `| ${entry.target} | ${entry.medianUs.toFixed(0)} | ${entry.roundsUs.map((us) => us.toFixed(0)).join(', ')} | ${toPeer ? toPeer.median.toFixed(3) : '1'} | ${toNaive ? toNaive.median.toFixed(3) : '1'} | ${entry.errors} |`;
    }),
    '',
    ...(peer ? [`- This gateway / RESTDataSource: ${peer.median.toFixed(3)} (rounds ${spread(peer.rounds)}); target at most 0.9: ${peer.median <= 0.9 ? 'met' : '**not met**'}.`] : []),
    ...(naive ? [`- This gateway / naive: ${naive.median.toFixed(3)} (rounds ${spread(naive.rounds)}); target at most 0.67: ${naive.median <= 0.67 ? 'met' : '**not met**'}.`] : []),
    ...(compared ? [`- Compare build / this gateway: ${compared.median.toFixed(3)} (rounds ${spread(compared.rounds)}).`] : []),
  ].join('\n');
}
