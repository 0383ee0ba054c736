import type { Logger } from 'pino';
import type { RedisConfig } from '../config/redis-config.js';
import { addressOf, connectCluster, connectNode, type RedisClient, type RedisErrorLog } from './redis-connection.js';
import { failureOf } from './redis-failure.js';

/** A single node (`REDIS_URL`), a cluster (found, or `REDIS_CLUSTER_NODES`), or Sentinel's primary. */
export type RedisDeployment = 'single' | 'cluster' | 'sentinel';

/** The two connections the shared state uses: commands, and one subscribed to freed slots. */
export interface RedisClients {
  deployment: RedisDeployment;
  commands: RedisClient;
  subscriber: RedisClient;
}

/**
 * The commands connection, once there is one: until the deployment is known (the node
 * `REDIS_URL` names has not answered yet), a command fails at once, as a disconnected one does.
 */
export class RedisLink {
  #client: RedisClient | undefined;

  set(client: RedisClient): void {
    this.#client = client;
  }

  run<T>(command: (client: RedisClient) => Promise<T>): Promise<T> {
    return this.#client === undefined ? Promise.reject(new Error('Redis is not connected yet')) : command(this.#client);
  }
}

/**
 * Opens the connections for `config` and hands them to `opened` once the deployment is known:
 * at once for `REDIS_CLUSTER_NODES` and Sentinel; for `REDIS_URL` alone, once that node first
 * answers `INFO cluster` (`cluster_enabled:1`: it is a cluster, and a cluster client takes over
 * from it). Start-up never waits for this. Answers a function that closes whatever is open.
 */
export function openRedis(config: RedisConfig, errors: RedisErrorLog, logger: Logger, opened: (clients: RedisClients) => void): () => void {
  const open: RedisClient[] = [];
  const hand = (deployment: RedisDeployment, commands: RedisClient, subscriber: RedisClient): void => {
    open.push(commands, subscriber);
    logger.info({ deployment }, 'redis: connected');
    opened({ deployment, commands, subscriber });
  };
  const close = (): void => {
    closed = true;
    for (const client of open.splice(0)) client.disconnect();
  };
  let closed = false;
  if (config.clusterNodes) {
    hand('cluster', connectCluster(config, config.clusterNodes, errors, 'commands'), connectCluster(config, config.clusterNodes, errors, 'subscriber'));
    return close;
  }
  if (config.sentinel) {
    hand('sentinel', connectNode(config, errors, 'commands'), connectNode(config, errors, 'subscriber'));
    return close;
  }
  const first = connectNode(config, errors, 'commands');
  open.push(first);
  const ask = (): void => {
    first.info('cluster').then(
      (info) => {
        if (closed) return;
        first.off('ready', ask);
        open.splice(open.indexOf(first), 1);
        if (/^cluster_enabled:1\s*$/m.test(info)) {
          first.disconnect();
          const nodes = [addressOf(config.url!)];
          hand('cluster', connectCluster(config, nodes, errors, 'commands'), connectCluster(config, nodes, errors, 'subscriber'));
        } else {
          hand('single', first, connectNode(config, errors, 'subscriber'));
        }
      },
      (error: unknown) => {
        // Gone again before it answered: asked again at the next ready. INFO refused (an ACL
        // user without it): a single node, as a cluster would answer MOVED, said by /readyz.
        if (closed || failureOf(error) === 'timeout' || failureOf(error) === 'disconnected') return;
        first.off('ready', ask);
        open.splice(open.indexOf(first), 1);
        hand('single', first, connectNode(config, errors, 'subscriber'));
      },
    );
  };
  first.on('ready', ask);
  return close;
}
