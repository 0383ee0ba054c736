import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

/** A real redis-server on a free loopback port, started by the test and stopped with it. */
export interface RedisServer {
  url: string;
  port: number;
  /** Sends a signal: SIGKILL to kill it, SIGSTOP to freeze it, SIGCONT to thaw it. */
  signal(signal: NodeJS.Signals): void;
  /** Starts a new server on the same port (after a kill), as a restarted Redis would be. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const MISSING =
  'redis-server is not on PATH. npm run test:redis needs a real Redis: install it (Debian: apt-get install redis-server) and run again.';

/** Fails with one clear line when redis-server is missing: the suite never skips silently. */
export function assertRedisServerInstalled(): void {
  if (spawnSync('redis-server', ['--version']).error) throw new Error(MISSING);
}

/** A port nothing listens on right now (`--port 0` does not make redis-server pick one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 10_000;
  while (!output.includes('Ready to accept connections')) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) throw new Error(`redis-server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return child;
}

export async function startRedis(): Promise<RedisServer> {
  assertRedisServerInstalled();
  const port = await freePort();
  let child = await spawnRedis(port);
  const stopChild = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    signal: (signal) => void child.kill(signal),
    async restart() {
      await stopChild();
      child = await spawnRedis(port);
    },
    stop: stopChild,
  };
}
