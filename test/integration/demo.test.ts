import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, expect, it } from '@jest/globals';
import { killRunning, runCompiled } from '../support/process.js';

afterEach(killRunning);

it('npm run demo prints a Sandbox URL and a curl that works as printed', async () => {
  const demo = runCompiled('demo.js', { PORT: '0' });
  try {
    await demo.printed('Press Ctrl+C to stop.');
    const output = demo.output();
    const sandboxUrl = /Open Apollo Sandbox: (\S+)/.exec(output)![1]!;
    const curl = output.slice(output.indexOf('curl -s'), output.indexOf('Press Ctrl+C')).trim();

    const page = await fetch(sandboxUrl, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('EmbeddedSandbox(');
    const { stdout } = await promisify(execFile)('sh', ['-c', curl]);
    expect(JSON.parse(stdout)).toEqual({ data: { updateContactPhoto: { id: '240X240', height: 240, width: 240 } } });
  } finally {
    demo.kill('SIGINT');
  }
  expect(await demo.exited).toBe(0);
});
