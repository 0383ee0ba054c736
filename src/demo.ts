/**
 * `npm run demo`: the Graph simulator and the gateway in front of it, on this machine, with no
 * Microsoft tenant. Prints the Sandbox URL and a `curl` that works as is.
 */
import { ConfigError, loadConfig, type GatewayConfig } from './config/config.js';
import { EXAMPLE_MUTATION, EXAMPLE_VARIABLES } from './schema/example-operation.js';
import { createGateway } from './server/gateway.js';
import { GraphSimulator } from './simulator/graph-simulator.js';

const simulator = new GraphSimulator();
const graphBaseUrl = await simulator.listen(Number(process.env['SIMULATOR_PORT'] ?? 0));

let config: GatewayConfig;
try {
  // The demo always talks to its own simulator, on this machine only unless HOST says otherwise.
  config = loadConfig({ HOST: '127.0.0.1', ...process.env, GRAPH_BASE_URL: graphBaseUrl });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
const gateway = await createGateway(config);
const url = await gateway.listen();

const body = JSON.stringify({ query: EXAMPLE_MUTATION.replace(/\s+/g, ' '), variables: EXAMPLE_VARIABLES });
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
    'Press Ctrl+C to stop.',
    '',
  ].join('\n'),
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void gateway
      .shutdown()
      .then(() => simulator.close())
      .then(() => process.exit(0));
  });
}
