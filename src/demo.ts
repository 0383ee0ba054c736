/**
 * `npm run demo`: the Graph simulator and the gateway in front of it, on this machine, with no
 * Microsoft tenant. Prints the Sandbox URL and a `curl` that works as is. With `AUTH_MODE=obo`,
 * the simulator plays Microsoft Entra ID too, over HTTPS with its own CA (written to a file the
 * demo names, with the two ways to make a browser accept it): the example page signs in with
 * MSAL.js as one of its test users, and the demo prints a user's token for the gateway's API
 * (for curl and Sandbox). The simulator holds the demo's contacts, and takes faults over HTTP (its fault
 * API, on in the demo only) so that a person can watch the example page meet Graph's failures.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { exitOnUnhandledErrors, loadConfigOrExit, stopOnSignals } from './process-lifecycle.js';
import { EXAMPLE_MUTATION, EXAMPLE_VARIABLES } from './schema/example-operation.js';
import { createGateway } from './server/gateway.js';
import { EntraSimulator } from './simulator/entra/entra-simulator.js';
import { DEMO_INVITATION_ID, demoContacts } from './simulator/graph/demo-contacts.js';
import { GraphSimulator } from './simulator/graph/graph-simulator.js';

const signIn = process.env['AUTH_MODE'] === 'obo';
// The example page is the tenant's single-page app (its redirect URI registered once the gateway listens).
const entra = signIn ? new EntraSimulator({ controlApi: true }) : undefined;
if (entra) await entra.listen();
// With sign-in, Graph takes only the tokens the Entra simulator issued, and keeps photos per user.
const simulator = new GraphSimulator({ controlApi: true, ...(entra && { principal: (token: string) => entra.graphPrincipal(token) }) });
const graphBaseUrl = await simulator.listen(Number(process.env['SIMULATOR_PORT'] ?? 0));
const contacts = await demoContacts();
simulator.addContacts(DEMO_INVITATION_ID, contacts);

// The example page (examples/web, built by npm ci), served by the gateway at /app/ when it is there.
const webAppDir = fileURLToPath(new URL('../examples/web/dist', import.meta.url));
const webApp = existsSync(join(webAppDir, 'index.html'));
// The demo always talks to its own simulator, and listens on this machine only unless HOST says otherwise.
const env = { HOST: '127.0.0.1', ...(webApp && { WEB_APP_DIR: webAppDir }), ...process.env, GRAPH_BASE_URL: graphBaseUrl };
const { url, stopGateway } = entra ? await startGatewayProcess({ ...env, ...entra.gatewayEnv(), WEB_APP_CLIENT_ID: entra.spaClientId }) : await startGatewayHere(env);
entra?.addSpaRedirectUri(new URL('/app/redirect.html', url).href);
const token = entra ? await entra.userToken({ oid: 'demo-user', expiresInS: 12 * 3600 }) : 'demo-token';

async function startGatewayHere(environment: NodeJS.ProcessEnv): Promise<{ url: string; stopGateway: () => Promise<void> }> {
  const config = loadConfigOrExit(environment);
  const gateway = await createGateway(config);
  exitOnUnhandledErrors(gateway.logger);
  return { url: await gateway.listen(), stopGateway: () => gateway.shutdown() };
}

/**
 * The gateway as its own process (as `npm start` runs it), its log lines passed through: Node
 * reads `NODE_EXTRA_CA_CERTS`, which must name the simulator's CA made just now, only when a
 * process starts.
 */
async function startGatewayProcess(environment: NodeJS.ProcessEnv): Promise<{ url: string; stopGateway: () => Promise<void> }> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const threadPool = fileURLToPath(new URL('./threadpool.cjs', import.meta.url));
  const child = spawn(process.execPath, ['--require', threadPool, main], { env: environment, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const listening = new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      process.stdout.write(`${line}\n`);
      const found = /"url":"([^"]+)"[^\n]*"msg":"gateway listening"/.exec(line);
      if (found) resolve(found[1]!);
    });
    child.once('exit', (code) => reject(new Error(`The gateway exited (${code}) before listening.`)));
  });
  const url = await listening;
  // Ready once it has read the identity provider's keys: the printed curl must work at once.
  for (let tries = 0; tries < 500 && (await fetch(new URL('/readyz', url))).status !== 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url,
    async stopGateway() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const body = JSON.stringify({ query: EXAMPLE_MUTATION.replace(/\s+/g, ' '), variables: EXAMPLE_VARIABLES });
// The upload: a GraphQL multipart request with the example picture shipped in examples/images.
const picture = fileURLToPath(new URL('../examples/images/contact.jpg', import.meta.url));
const operations = JSON.stringify({
  query: `mutation ($file: Upload!) { uploadContactPhoto(invitationId: "${EXAMPLE_VARIABLES.invitationId}", contactId: "${EXAMPLE_VARIABLES.contactId}", file: $file) { id height width thumbnail: dataUrl(size: 48) } }`,
  variables: { file: null },
});
process.stdout.write(
  [
    '',
    entra
      ? `Graph simulator: ${graphBaseUrl}  (takes only the tokens the Entra simulator issued; photos are kept per user)`
      : `Graph simulator: ${graphBaseUrl}  (any bearer token works; photos are kept per token)`,
    ...(entra ? [`Entra ID simulator: ${entra.authorityHost}  (tenant ${entra.tenantId}, the gateway's app ${entra.clientId})`] : []),
    `Gateway:         ${url}`,
    '',
    webApp
      ? `Open the example page: ${new URL('/app/', url).href}${entra ? '  (sign in as one of the test users)' : ''}`
      : 'The example page is not built: npm run build:web, then start the demo again.',
    ...(entra ? ['', ...trustHelp(entra.caFile)] : []),
    '',
    `Open Apollo Sandbox: ${url}`,
    entra
      ? '  (fill in the Authorization header with "Bearer " and the user token below)'
      : '  (fill in the Authorization header with any token, e.g. "Bearer demo-token")',
    '',
    ...(entra ? ['A user token for the gateway\'s API (api://<client id>/access_as_user, valid 12 hours):', '', token, ''] : []),
    'Or try it from a shell:',
    '',
    `curl -s ${url} \\`,
    "  -H 'content-type: application/json' \\",
    `  -H 'authorization: Bearer ${token}' \\`,
    `  --data '${body}'`,
    '',
    'Upload a picture (any JPEG, PNG, GIF, WebP, AVIF or HEIC; the gateway sends Graph a clean JPEG):',
    '',
    `curl -s ${url} \\`,
    `  -H 'authorization: Bearer ${token}' \\`,
    "  -H 'apollo-require-preflight: true' \\",
    `  -F operations='${operations}' \\`,
    `  -F map='{"0":["variables.file"]}' \\`,
    `  -F 0=@${picture}`,
    '',
    ...faultApiHelp(new URL('/_simulator/', graphBaseUrl).href),
    '',
    ...(entra ? [...claimsChallengeHelp(new URL('/_simulator/', entra.authorityHost).href, entra.caFile), ''] : []),
    'Press Ctrl+C to stop.',
    '',
  ].join('\n'),
);

/**
 * Where the Entra simulator's CA is, and the two ways to make a browser accept the simulator's
 * HTTPS, which MSAL.js requires of an authority: trust the CA, or, for local testing only, start
 * Chromium with its flag that accepts this CA's key alone (not every bad certificate).
 */
function trustHelp(caFile: string): string[] {
  const spki = new X509Certificate(readFileSync(caFile)).publicKey.export({ type: 'spki', format: 'der' });
  const hash = createHash('sha256').update(spki).digest('base64');
  return [
    `The Entra ID simulator serves HTTPS with its own CA (new at each start, valid a day): ${caFile}`,
    'Make the browser accept it, either:',
    `  - trust that file (Chromium on Linux: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n contact-photo-gateway-demo -i ${caFile};`,
    '    macOS: add it to the login keychain in Keychain Access and trust it; Windows: certutil -addstore -user Root <file>), or',
    `  - for local testing only, start Chromium with: --ignore-certificate-errors-spki-list=${hash}`,
  ];
}

/** How to make Conditional Access ask a user for more: a claims challenge through the Entra simulator's control API. */
function claimsChallengeHelp(api: string, caFile: string): string[] {
  return [
    "Make the gateway's exchange answer a claims challenge for Megan Bowen (she then signs in again once, in a popup):",
    `curl -s --cacert ${caFile} ${api}claims-challenges -H 'content-type: application/json' \\`,
    `  --data '{"user":"megan.bowen@contoso.example"}'`,
    `Clear them: curl -s --cacert ${caFile} -X DELETE ${api}claims-challenges`,
  ];
}

/** How to make Graph fail while watching the page: the simulator's fault API (control-api.ts). */
function faultApiHelp(api: string): string[] {
  const withPicture = contacts.find((contact) => contact.picture !== undefined)!;
  const post = (fault: object) => [`curl -s ${api}faults -H 'content-type: application/json' \\`, `  --data '${JSON.stringify(fault)}'`];
  return [
    `Make Graph fail while you watch (the simulator's fault API, in the demo only; ${contacts.length} contacts in ${DEMO_INVITATION_ID}):`,
    '',
    `${withPicture.displayName}'s picture cannot be read (403), until cleared:`,
    ...post({ contactId: withPicture.id, status: 403, times: 'always' }),
    '',
    'The contact list fails (500), until cleared:',
    ...post({ list: true, status: 500, times: 'always' }),
    '',
    'Clear every fault (POST /_simulator/reset also forgets the requests received):',
    `curl -s -X DELETE ${api}faults`,
    '',
    'The gateway keeps each caller\'s pictures for PHOTO_CACHE_TTL_S (600 s) and its contact list for',
    'CONTACT_LIST_CACHE_TTL_S (60 s): what is already on screen stays there when its reads fail. To',
    'watch a fault at once, open the page as a new caller (another #token=... in its address, in',
    'passthrough), or start the demo with PHOTO_CACHE_TTL_S=0 (which turns both off).',
  ];
}

stopOnSignals(
  async () => {
    await stopGateway();
    await simulator.close();
    await entra?.close();
  },
  (error) => process.stderr.write(`Stopping the demo failed: ${String(error)}\n`),
);
