/**
 * Starting each benchmark target as its own process and reading what it prints: the simulator,
 * the references and this gateway all run outside the load generator's process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface RunningProcess {
  /** What the process printed that names where it serves (a URL). */
  url: string;
  pid: number;
  /** Milliseconds from spawn to the line that gave `url`. */
  startedMs: number;
  stop(): Promise<void>;
}

/** A path from the repository root, for spawning. */
export function repoPath(path: string): string {
  return fileURLToPath(new URL(`../../${path}`, import.meta.url));
}

/**
 * Spawns `node script` with `env` and waits until a line of its stdout matches `ready` (whose
 * first group is the URL). Output is read and dropped afterwards, as a log shipper would.
 */
export async function startProcess(script: string, env: Record<string, string>, ready: RegExp): Promise<RunningProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, [repoPath(script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = ready.exec(seen);
      if (match) {
        resolve(match[1]!);
        seen = '';
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready:\n${seen}`)));
  });
  const startedMs = performance.now() - started;
  child.removeAllListeners('exit');
  return { url, pid: child.pid!, startedMs, stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Resident set size of a process, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}
