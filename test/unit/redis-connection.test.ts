import { createServer } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { connectRedis } from '../../src/redis/redis-connection.js';

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
    const client = connectRedis(`redis://127.0.0.1:${await closedPort()}`, pino({ level: 'silent' }), 'test');
    try {
      // With ioredis's offline queue, this would wait for a connection that never comes.
      await expect(client.get('anything')).rejects.toThrow(/enableOfflineQueue options is false/);
    } finally {
      client.disconnect();
    }
  });
});
