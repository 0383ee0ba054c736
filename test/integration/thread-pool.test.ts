import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/config.js';

/** `UV_THREADPOOL_SIZE` as the compiled preload (`npm start`'s `--require ./dist/threadpool.cjs`) leaves it for `env`. */
async function poolSizeAfterPreload(env: Record<string, string>): Promise<string> {
  const preload = fileURLToPath(new URL('../../dist/threadpool.cjs', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--require', preload, '-p', 'process.env.UV_THREADPOOL_SIZE'], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
  });
  return stdout.trim();
}

describe("the preload that sizes libuv's thread pool", () => {
  it("gives a pool in which PHOTO_CONCURRENCY's default is the number of cores, with four threads left for the rest", async () => {
    const pool = await poolSizeAfterPreload({});

    expect(pool).toBe(String(availableParallelism() + 4));
    expect(loadConfig({ UV_THREADPOOL_SIZE: pool }).photos.concurrency).toBe(availableParallelism());
  });

  it('gives an explicit PHOTO_CONCURRENCY four threads more, which the configuration then accepts', async () => {
    const pool = await poolSizeAfterPreload({ PHOTO_CONCURRENCY: '7' });

    expect(pool).toBe('11');
    expect(loadConfig({ UV_THREADPOOL_SIZE: pool, PHOTO_CONCURRENCY: '7' }).photos.concurrency).toBe(7);
  });

  it('keeps an explicit UV_THREADPOOL_SIZE', async () => {
    expect(await poolSizeAfterPreload({ UV_THREADPOOL_SIZE: '9', PHOTO_CONCURRENCY: '7' })).toBe('9');
  });
});
