/**
 * `npm run demo`: the Graph simulator and the gateway in front of it, on this machine, with no
 * Microsoft tenant. Prints the Sandbox URL and a `curl` that works as is.
 */
import { fileURLToPath } from 'node:url';
import { exitOnUnhandledErrors, loadConfigOrExit, stopOnSignals } from './process-lifecycle.js';
import { EXAMPLE_MUTATION, EXAMPLE_VARIABLES } from './schema/example-operation.js';
import { createGateway } from './server/gateway.js';
import { GraphSimulator } from './simulator/graph/graph-simulator.js';

const simulator = new GraphSimulator();
const graphBaseUrl = await simulator.listen(Number(process.env['SIMULATOR_PORT'] ?? 0));

// The demo always talks to its own simulator, and listens on this machine only unless HOST says otherwise.
const config = loadConfigOrExit({ HOST: '127.0.0.1', ...process.env, GRAPH_BASE_URL: graphBaseUrl });
const gateway = await createGateway(config);
exitOnUnhandledErrors(gateway.logger);
const url = await gateway.listen();

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
    `Graph simulator: ${graphBaseUrl}  (any bearer token works; photos are kept per token)`,
    `Gateway:         ${url}`,
    '',
    `Open Apollo Sandbox: ${url}`,
    '  (fill in the Authorization header with any token, e.g. "Bearer demo-token")',
    '',
    'Or try it from a shell:',
    '',
    `curl -s ${url} \\`,
    "  -H 'content-type: application/json' \\",
    "  -H 'authorization: Bearer demo-token' \\",
    `  --data '${body}'`,
    '',
    'Upload a picture (any JPEG, PNG, GIF, WebP, AVIF or HEIC; the gateway sends Graph a clean JPEG):',
    '',
    `curl -s ${url} \\`,
    "  -H 'authorization: Bearer demo-token' \\",
    "  -H 'apollo-require-preflight: true' \\",
    `  -F operations='${operations}' \\`,
    `  -F map='{"0":["variables.file"]}' \\`,
    `  -F 0=@${picture}`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n'),
);

stopOnSignals(
  async () => {
    await gateway.shutdown();
    await simulator.close();
  },
  (error) => process.stderr.write(`Stopping the demo failed: ${String(error)}\n`),
);
