import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from '@jest/globals';
import { HeicDecoder } from '../../src/photos/heic-decoder.js';

const HEIC = readFileSync(new URL('../fixtures/images/red-blue-64x48.heic', import.meta.url));

describe('HeicDecoder', () => {
  const decoder = new HeicDecoder(1);
  afterAll(() => decoder.close());

  it('decodes to RGBA in a worker, the pixels moved back', async () => {
    const image = await decoder.decode(HEIC, new AbortController().signal);

    expect([image.width, image.height, image.data.length]).toEqual([64, 48, 64 * 48 * 4]);
    // Left half red (220, 30, 30), as the fixture was made.
    expect(Math.abs(image.data[(24 * 64 + 8) * 4]! - 220)).toBeLessThan(12);
  });

  it('gives up a decode that is aborted, and keeps decoding afterwards', async () => {
    const aborted = new AbortController();
    const decoding = decoder.decode(HEIC, aborted.signal);
    aborted.abort(new Error('the caller left'));

    // piscina's own answer for a task ended by its signal: the worker was stopped, not finished.
    await expect(decoding).rejects.toThrow('The task has been aborted');
    await expect(decoder.decode(HEIC, new AbortController().signal)).resolves.toMatchObject({ width: 64, height: 48 });
  });

  it('rejects with the decoder’s error for bytes that are not a HEIC', async () => {
    await expect(decoder.decode(Buffer.from('not a heic at all, just text'), new AbortController().signal)).rejects.toThrow(/not a HEIC image/);
  });
});

describe('HeicDecoder output', () => {
  it('writes nothing to the process’s stdout when a file fails to decode (log lines stay JSON)', async () => {
    // Run in a process of its own: the worker writes to the process's stdout directly, where Jest
    // cannot see it. The truncated file makes libheif fail in the middle of decoding, where it
    // prints its error with console.log.
    const script = `
      import { readFileSync } from 'node:fs';
      import { HeicDecoder } from ${JSON.stringify(new URL('../../dist/photos/heic-decoder.js', import.meta.url).href)};
      const heic = readFileSync(new URL(${JSON.stringify(new URL('../fixtures/images/red-blue-64x48.heic', import.meta.url).href)}));
      const decoder = new HeicDecoder(1);
      const failure = await decoder.decode(heic.subarray(0, heic.length - 10), new AbortController().signal).then(() => 'decoded', (error) => error.message);
      await decoder.close();
      process.stderr.write(failure);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });

    expect(child.stderr).toBe('HEIF processing error');
    expect(child.stdout).toBe('');
  });
});
