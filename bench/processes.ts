/**
 * Starting each benchmark target as its own process and reading what it prints: the simulator,
 * the references and this gateway all run outside the load generator's process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RunningProcess {
  /** What the process printed that names where it serves (a URL). */
  url: string;
  pid: number;
  /** Milliseconds from spawn to the line that gave `url`. */
  startedMs: number;
  /** Ends the process: SIGKILL unless told otherwise (SIGTERM lets a --cpu-prof process write its profile). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A path from the repository root (an absolute path stays as it is), for spawning. */
export function repoPath(path: string): string {
  return isAbsolute(path) ? path : fileURLToPath(new URL(`../../${path}`, import.meta.url));
}

/**
 * Spawns `node script` with `env` and waits until its output matches `ready` (whose first group
 * is the URL). Output goes to a file, not a pipe: a pipe read by this process, which is busy
 * generating load, would fill and push back on the target's logging, which a benchmark must not
 * measure.
 */
export async function startProcess(script: string, env: Record<string, string>, ready: RegExp, nodeArgs: string[] = []): Promise<RunningProcess> {
  const outputFile = join(mkdtempSync(join(os.tmpdir(), 'bench-')), 'output.log');
  const output = openSync(outputFile, 'w');
  const started = performance.now();
  // BENCH_NODE_ARGS: options for every target's node (the profiler's --cpu-prof, which NODE_OPTIONS may not carry).
  const extra = process.env['BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...extra, ...nodeArgs, repoPath(script)], { env: { ...process.env, ...env }, stdio: ['ignore', output, output] });
  closeSync(output);
  let url: string | undefined;
  while (url === undefined) {
    if (child.exitCode !== null) throw new Error(`${script} exited (${child.exitCode}) before it was ready:\n${readFileSync(outputFile, 'utf8')}`);
    url = ready.exec(readFileSync(outputFile, 'utf8'))?.[1];
    if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const startedMs = performance.now() - started;
  return {
    url,
    pid: child.pid!,
    startedMs,
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      await stop(child, signal);
      rmSync(dirname(outputFile), { recursive: true, force: true });
    },
  };
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  // Exited, or ended by a signal (a process killed by SIGKILL has no exit code).
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Resident set size of a process, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User and system CPU seconds a process has used, all its threads together (Linux). */
export function cpuTimes(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After the command name: state is field 3, utime 14 and stime 15 (1-based), so 11 and 12 here.
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

/** Polls a gateway's /readyz until it answers 200 (at most 10 s). */
export async function waitUntilReady(url: string): Promise<void> {
  for (let tries = 0; tries < 500 && (await fetch(new URL('/readyz', url))).status !== 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
