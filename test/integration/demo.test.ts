import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, expect, it } from '@jest/globals';
import { killRunning, runCompiled } from '../support/process.js';

afterEach(killRunning);

it('npm run demo prints a Sandbox URL, and a curl for the mutation and one for an upload that work as printed', async () => {
  const demo = runCompiled('demo.js', { PORT: '0' });
  try {
    await demo.printed('Press Ctrl+C to stop.');
    const output = demo.output();
    const sandboxUrl = /Open Apollo Sandbox: (\S+)/.exec(output)![1]!;
    const curl = output.slice(output.indexOf('curl -s'), output.indexOf('Upload a picture')).trim();
    const uploadCurl = output.slice(output.indexOf('curl -s', output.indexOf('Upload a picture')), output.indexOf('Press Ctrl+C')).trim();

    const page = await fetch(sandboxUrl, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('EmbeddedSandbox(');
    const { stdout } = await promisify(execFile)('sh', ['-c', curl]);
    expect(JSON.parse(stdout)).toEqual({ data: { updateContactPhoto: { id: '240X240', height: 240, width: 240 } } });
    const uploaded = await promisify(execFile)('sh', ['-c', uploadCurl]);
    expect(JSON.parse(uploaded.stdout)).toEqual({
      data: { uploadContactPhoto: { id: '648X486', height: 486, width: 648, thumbnail: expect.stringMatching(/^data:image\/jpeg;base64,/) } },
    });
  } finally {
    demo.kill('SIGINT');
  }
  expect(await demo.exited).toBe(0);
});

it('AUTH_MODE=obo npm run demo plays Entra ID too and prints a user token that the printed curl works with', async () => {
  const demo = runCompiled('demo.js', { PORT: '0', AUTH_MODE: 'obo' });
  try {
    await demo.printed('Press Ctrl+C to stop.');
    const output = demo.output();
    const token = /valid 12 hours\):\n\n(\S+)\n/.exec(output)![1]!;
    const curl = output.slice(output.indexOf('curl -s'), output.indexOf('Upload a picture')).trim();
    const gatewayUrl = /Gateway: +(\S+)/.exec(output)![1]!;

    const { stdout } = await promisify(execFile)('sh', ['-c', curl]);
    expect(curl).toContain(`Bearer ${token}`);
    expect(JSON.parse(stdout)).toEqual({ data: { updateContactPhoto: { id: '240X240', height: 240, width: 240 } } });
    const withoutToken = await fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ contactPhoto(invitationId: \\"i\\", contactId: \\"c\\") { id } }"}' });
    expect(withoutToken.status).toBe(401);
  } finally {
    demo.kill('SIGINT');
  }
  expect(await demo.exited).toBe(0);
});
