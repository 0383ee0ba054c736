import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from '@jest/globals';

const DEMO = fileURLToPath(new URL('../../dist/demo.js', import.meta.url));

it('npm run demo prints a Sandbox URL and a curl that works as printed', async () => {
  const child = spawn(process.execPath, [DEMO], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    const deadline = Date.now() + 10_000;
    while (!output.includes('Press Ctrl+C to stop.')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`The demo did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const sandboxUrl = /Open Apollo Sandbox: (\S+)/.exec(output)![1]!;
    const curl = output.slice(output.indexOf('curl -s'), output.indexOf('Press Ctrl+C')).trim();

    const page = await fetch(sandboxUrl, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('EmbeddedSandbox(');
    const { stdout } = await promisify(execFile)('sh', ['-c', curl]);
    expect(JSON.parse(stdout)).toEqual({ data: { updateContactPhoto: { id: '240X240', height: 240, width: 240 } } });
  } finally {
    child.kill('SIGINT');
  }
  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
});
