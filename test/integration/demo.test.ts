import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, expect, it } from '@jest/globals';
import { postGraphQL } from '../support/graphql.js';
import { killRunning, runCompiled } from '../support/process.js';

afterEach(killRunning);

it('npm run demo prints a Sandbox URL, and a curl for the mutation and one for an upload that work as printed', async () => {
  const demo = runCompiled('demo.js', { PORT: '0' });
  try {
    await demo.printed('Press Ctrl+C to stop.');
    const output = demo.output();
    const sandboxUrl = /Open Apollo Sandbox: (\S+)/.exec(output)![1]!;
    const curl = output.slice(output.indexOf('curl -s'), output.indexOf('Upload a picture')).trim();
    const uploadCurl = output.slice(output.indexOf('curl -s', output.indexOf('Upload a picture')), output.indexOf('Make Graph fail')).trim();

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

it("AUTH_MODE=obo npm run demo names the Entra simulator's CA file, the Chromium flag that accepts that CA's key alone, and a claims-challenge curl that works against it", async () => {
  const demo = runCompiled('demo.js', { PORT: '0', AUTH_MODE: 'obo' });
  try {
    await demo.printed('Press Ctrl+C to stop.');
    const output = demo.output();
    const caFile = /serves HTTPS with its own CA \([^)]*\): (\S+)/.exec(output)![1]!;
    const printedHash = /--ignore-certificate-errors-spki-list=(\S+)/.exec(output)![1]!;
    const spki = new X509Certificate(readFileSync(caFile)).publicKey.export({ type: 'spki', format: 'der' });
    const challenge = output.slice(output.indexOf('Make the gateway\'s exchange answer a claims challenge'), output.indexOf('Clear them:'));
    const curl = challenge.slice(challenge.indexOf('curl -s')).trim();

    expect(new X509Certificate(readFileSync(caFile)).ca).toBe(true);
    expect(printedHash).toBe(createHash('sha256').update(spki).digest('base64'));
    expect(output).toContain(`trust that file (Chromium on Linux: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n contact-photo-gateway-demo -i ${caFile};`);
    expect(output).not.toContain('#token=');
    expect(JSON.parse((await promisify(execFile)('sh', ['-c', curl])).stdout)).toMatchObject({ user: '7b2e4c1a-8d3f-4b6e-a2c5-1e9d7f3b0a02', claims: expect.stringContaining('"acrs"') });
  } finally {
    demo.kill('SIGINT');
  }
  expect(await demo.exited).toBe(0);
});

it("npm run demo seeds invitation-1's contacts and prints curls of the simulator's fault API that fail one contact's picture, fail the list, and clear", async () => {
  const demo = runCompiled('demo.js', { PORT: '0' });
  try {
    await demo.printed('Press Ctrl+C to stop.');
    const output = demo.output();
    const gatewayUrl = /Gateway: +(\S+)/.exec(output)![1]!;
    const section = output.slice(output.indexOf('Make Graph fail while you watch'), output.indexOf('Press Ctrl+C'));
    const [failOne, failList, clear] = section.split(/\n\n/).slice(1).map((part) => part.slice(part.indexOf('curl -s')).trim());
    const contactId = /"contactId":"([^"]+)"/.exec(failOne!)![1]!;
    const run = async (curl: string) => (await promisify(execFile)('sh', ['-c', curl])).stdout;
    const picture = async (token = 'demo-token') =>
      (await postGraphQL(gatewayUrl, 'query ($c: ID!) { contactPhoto(invitationId: "invitation-1", contactId: $c) { thumbnail: dataUrl(size: 48) } }', { c: contactId }, { token })).body;
    const list = async (token = 'demo-token') => {
      const { body } = await postGraphQL(gatewayUrl, '{ contacts(invitationId: "invitation-1", first: 100) { edges { node { displayName photo { dataUrl(size: 48) } } } } }', {}, { token });
      const edges = (body.data as { contacts: { edges: Array<{ node: { photo: unknown } }> } } | null)?.contacts.edges;
      return edges ? `${edges.length} contacts, ${edges.filter(({ node }) => node.photo !== null).length} with a picture` : String(body.errors?.[0]?.extensions?.['code']);
    };

    expect(section).toContain("Grace Hopper's picture cannot be read (403), until cleared:");
    expect(section).toContain('36 contacts in invitation-1');
    expect(await picture()).toEqual({ data: { contactPhoto: { thumbnail: expect.stringMatching(/^data:image\/jpeg;base64,/) } } });
    expect(await list()).toBe('36 contacts, 24 with a picture');

    expect(JSON.parse(await run(failOne!))).toEqual({ queued: { contactId, status: 403, times: 'always' } });
    // The gateway keeps what a caller read (the demo says so): a new caller meets the fault.
    expect(section).toContain('open the page as a new caller');
    expect(await picture()).toEqual({ data: { contactPhoto: { thumbnail: expect.stringMatching(/^data:image\/jpeg;base64,/) } } });
    expect((await picture('another-caller')).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((await picture('another-caller')).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    // Grace Hopper's picture now fails: the others are still there.
    expect(await list('a-third-caller')).toBe('36 contacts, 23 with a picture');

    expect(JSON.parse(await run(failList!))).toEqual({ queued: { list: true, status: 500, times: 'always' } });
    // The list too is kept per caller (CONTACT_LIST_CACHE_TTL_S): a caller who has not listed meets the fault.
    expect(await list('a-fourth-caller')).toBe('BAD_GATEWAY');

    expect(await run(clear!)).toBe('');
    // The failed list was not kept.
    expect(await list('a-fourth-caller')).toBe('36 contacts, 24 with a picture');
    expect((await picture()).data?.contactPhoto).toEqual({ thumbnail: expect.stringMatching(/^data:image\/jpeg;base64,/) });
  } finally {
    demo.kill('SIGINT');
  }
  expect(await demo.exited).toBe(0);
});
