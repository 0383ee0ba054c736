import { spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createServerCertificate } from '../../src/simulator/entra/certificate-authority.js';
import { assertRedisServerInstalled, freePort, spawnRedis, startRedis, type RedisServer } from './redis.js';

/**
 * The Redis deployments platforms run, made of real redis-servers on free ports: a cluster of
 * three masters, a server on TLS with a private CA, one with an ACL user, and a Sentinel set.
 * Each fails with one line naming what is missing, never skips.
 */

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGCONT');
  child.kill('SIGKILL');
  await exited;
}

async function until(what: string, condition: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What a node answers to one command, or `''` when it does not answer. */
async function ask(port: number, ...command: string[]): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return String(await client.call(command[0]!, ...command.slice(1)));
  } catch {
    return '';
  } finally {
    client.disconnect();
  }
}

export interface ClusterNode {
  port: number;
  url: string;
  kill(): Promise<void>;
  /** Starts it again with its nodes file: it rejoins the cluster with its slots. */
  restart(): Promise<void>;
}

export interface RedisClusterSet {
  nodes: ClusterNode[];
  /** Waits until every node says `cluster_state:ok`. */
  healthy(): Promise<void>;
  stop(): Promise<void>;
}

/** Three masters, no replicas (`redis-cli --cluster create`), a node timeout of 1 s. */
export async function startCluster(): Promise<RedisClusterSet> {
  assertRedisServerInstalled();
  if (spawnSync('redis-cli', ['--version']).error) {
    throw new Error('redis-cli is not on PATH. The cluster tests create the cluster with it: install it (Debian: apt-get install redis-tools) and run again.');
  }
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const nodes: ClusterNode[] = [];
  const children: ChildProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '1000', '--dir', dir];
    children[i] = await spawnRedis(port, args);
    nodes.push({
      port,
      url: `redis://127.0.0.1:${port}`,
      kill: () => stopChild(children[i]!),
      restart: async () => {
        await stopChild(children[i]!);
        children[i] = await spawnRedis(port, args);
      },
    });
  }
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map(({ port }) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], {
    encoding: 'utf8',
  });
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
  const healthy = async (): Promise<void> => {
    for (const { port } of nodes) await until(`cluster_state:ok on ${port}`, async () => (await ask(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'));
  };
  await healthy();
  return {
    nodes,
    healthy,
    async stop() {
      for (const child of children) await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server on TLS only, its certificate signed by a CA made here (`caFile`, for `REDIS_TLS_CA_FILE`). */
export async function startTlsRedis(args: string[] = []): Promise<{ server: RedisServer; caFile: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
  const { caPem, certPem, keyPem } = await createServerCertificate();
  const file = (name: string, content: string) => {
    writeFileSync(join(dir, name), content, { mode: 0o600 });
    return join(dir, name);
  };
  const caFile = file('ca.pem', caPem);
  const tls = ['--tls-port', '--tls-cert-file', file('server.pem', certPem), '--tls-key-file', file('server-key.pem', keyPem), '--tls-ca-cert-file', caFile];
  let server: RedisServer;
  try {
    server = await startRedis([...tls, '--tls-auth-clients', 'no', ...args]);
  } catch (error) {
    throw new Error(`redis-server could not start on TLS (Debian's is built with it; a build without TLS cannot run these tests): ${(error as Error).message}`);
  }
  return { server, caFile, dir };
}

/** ACL: the user `gateway` (password `gateway-secret`) may do everything; the default user is off. */
export const ACL_USER = ['--user', 'gateway', 'on', '>gateway-secret', '~*', '&*', '+@all', '--user', 'default', 'off'];

export interface SentinelSet {
  /** The Sentinel's address, for `REDIS_SENTINELS`. */
  sentinel: string;
  name: string;
  primary: RedisServer;
  replica: RedisServer;
  stop(): Promise<void>;
}

/** One primary, one replica of it, and a Sentinel watching them (quorum 1) as `gateway-primary`. */
export async function startSentinelSet(): Promise<SentinelSet> {
  const primary = await startRedis();
  const replica = await startRedis(['--replicaof', '127.0.0.1', String(primary.port)]);
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const config = join(dir, 'sentinel.conf');
  writeFileSync(config, `sentinel monitor gateway-primary 127.0.0.1 ${primary.port} 1\nsentinel down-after-milliseconds gateway-primary 1000\n`);
  const port = await freePort();
  const sentinel = await spawnRedis(port, ['--sentinel'], config, '+monitor master');
  await until('the Sentinel knowing the primary', async () => (await ask(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'gateway-primary')).includes(String(primary.port)));
  return {
    sentinel: `127.0.0.1:${port}`,
    name: 'gateway-primary',
    primary,
    replica,
    async stop() {
      await stopChild(sentinel);
      await replica.stop();
      await primary.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
