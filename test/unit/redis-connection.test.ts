import { createServer } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { connectNode, RedisErrorLog } from '../../src/redis/redis-connection.js';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the Redis connection', () => {
  it('fails a command at once while Redis is unreachable, rather than queueing it for a reconnect', async () => {
    const config = { url: `redis://127.0.0.1:${await closedPort()}`, clusterNodes: undefined, sentinel: undefined, tlsCa: undefined };
    const client = connectNode(config, new RedisErrorLog(pino({ level: 'silent' })), 'test');
    try {
      // With ioredis's offline queue, this would wait for a connection that never comes.
      await expect(client.get('anything')).rejects.toThrow(/enableOfflineQueue options is false/);
    } finally {
      client.disconnect();
    }
  });
});
