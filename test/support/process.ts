import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface CompiledProcess {
  /** stdout and stderr so far, interleaved as they came. */
  output(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves once `text` has been printed; rejects if the process exits or 10 s pass first. */
  printed(text: string): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** The process id, e.g. to read its memory from /proc. */
  pid: number;
}

/** Children started by `runCompiled` that have not exited yet. */
const running = new Set<ChildProcess>();

/**
 * Ends every child `runCompiled` started that is still running (SIGKILL) and waits for each to
 * exit. For `afterEach`: a test that fails before its child exits must not leave it running, or
 * Jest waits for it.
 */
export async function killRunning(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      return exited;
    }),
  );
}

/**
 * Runs a file of the build (`dist/`, made by `npm test` before Jest) as `npm start` would (libuv's
 * thread pool sized by `dist/threadpool.cjs`);
 * `preload` names a file of `test/fixtures/` to load first (`node --import`).
 */
export function runCompiled(file: 'main.js' | 'demo.js', env: Record<string, string>, preload?: string): CompiledProcess {
  const script = fileURLToPath(new URL(`../../dist/${file}`, import.meta.url));
  // As `npm start` and `npm run demo` do: libuv's thread pool sized first (src/threadpool.cjs).
  const threadPool = ['--require', fileURLToPath(new URL('../../dist/threadpool.cjs', import.meta.url))];
  const args = [...threadPool, ...(preload === undefined ? [] : ['--import', new URL(`../fixtures/${preload}`, import.meta.url).href]), script];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = once(child, 'exit').then(([code]) => {
    running.delete(child);
    return code as number | null;
  });
  let output = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  return {
    output: () => output,
    stderr: () => stderr,
    exited,
    async printed(text) {
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`${file} exited (${child.exitCode}) before printing ${JSON.stringify(text)}:\n${output}`);
        return output.includes(text);
      }, 10_000);
    },
    kill: (signal) => void child.kill(signal),
    pid: child.pid!,
  };
}
