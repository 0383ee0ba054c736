import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

const LOGGER = new URL('../../dist/server/logger.js', import.meta.url).href;

describe('the default log destination', () => {
  it('has every line on stdout when the process is killed right after logging it', () => {
    // A process that logs 20 lines and is killed at once (as SIGKILL or a crash would end it):
    // a line handed to a thread to write later is lost with it.
    const script = `
      import { createLogger } from ${JSON.stringify(LOGGER)};
      const logger = createLogger('info');
      for (let n = 0; n < 20; n++) logger.info({ n }, 'line');
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');
    const numbers = child.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { n: number }).n);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, n) => n));
  });
});
