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
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server on `port`, waited for until it says it is ready. `args` are more of its settings
 * (users, cluster mode, `--replicaof`); `--tls-port` alone among them puts it on TLS only, on
 * `port`. A `configFile` comes first (a Sentinel's, which it rewrites).
 */
export async function spawnRedis(port: number, args: string[] = [], configFile?: string, ready = 'Ready to accept connections'): Promise<ChildProcess> {
  const portArgs = args.includes('--tls-port') ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  const settings = args.filter((arg) => arg !== '--tls-port');
  const child = spawn('redis-server', [...(configFile ? [configFile] : []), ...portArgs, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...settings], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 10_000;
  while (!output.includes(ready)) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) throw new Error(`redis-server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return child;
}

/** A redis-server; `args` are more of its settings, `scheme` is `rediss` for one with `--tls-port` (then on `localhost`, its certificate's name). */
export async function startRedis(args: string[] = []): Promise<RedisServer> {
  assertRedisServerInstalled();
  const port = await freePort();
  let child = await spawnRedis(port, args);
  const stopChild = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  };
  return {
    url: args.includes('--tls-port') ? `rediss://localhost:${port}` : `redis://127.0.0.1:${port}`,
    port,
    signal: (signal) => void child.kill(signal),
    async restart() {
      await stopChild();
      child = await spawnRedis(port, args);
    },
    stop: stopChild,
  };
}
