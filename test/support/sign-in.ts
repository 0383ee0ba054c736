import { EntraSimulator } from '../../src/simulator/entra/entra-simulator.js';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';
import { runCompiled, type CompiledProcess } from './process.js';

/**
 * The sign-in set-up: the simulator's Entra ID (HTTPS, its own CA) and Graph (accepting only the
 * tokens Entra issued), and the gateway in `obo` mode as its own process, as `npm start` runs it:
 * Node reads `NODE_EXTRA_CA_CERTS` only when a process starts, so the gateway cannot run in the
 * test's process against a CA made by the test.
 */
export interface SignInStack {
  entra: EntraSimulator;
  graph: GraphSimulator;
  gateway: CompiledProcess;
  /** The gateway's GraphQL endpoint. */
  url: string;
  /** The gateway's log lines so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface SignInStackOptions {
  env?: Record<string, string>;
  /** Start the gateway in front of this Graph simulator (already listening), rather than a new one. */
  graph?: GraphSimulator;
  /** Start the gateway with this Entra simulator (already listening), rather than a new one. */
  entra?: EntraSimulator;
  /** Do not wait for /readyz. */
  noWait?: boolean;
}

export async function startSignInStack(options: SignInStackOptions = {}): Promise<SignInStack> {
  const entra = options.entra ?? new EntraSimulator();
  if (!options.entra) await entra.listen();
  const graph = options.graph ?? new GraphSimulator({ principal: (token) => entra.graphPrincipal(token) });
  const graphBaseUrl = options.graph ? graph.baseUrl : await graph.listen();
  // The photo cache off unless the test turns it on, as in stack.ts.
  const gateway = runCompiled('main.js', { PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graphBaseUrl, LOG_LEVEL: 'info', PHOTO_CACHE_TTL_S: '0', ...entra.gatewayEnv(), ...options.env });
  await gateway.printed('gateway listening');
  const url = /"url":"([^"]+)"[^\n]*"msg":"gateway listening"/.exec(gateway.output())![1]!;
  if (!options.noWait) await waitUntilReady(url);
  return {
    entra,
    graph,
    gateway,
    url,
    logs: () =>
      gateway
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async close() {
      gateway.kill('SIGTERM');
      await gateway.exited;
      if (!options.graph) await graph.close();
      if (!options.entra) await entra.close();
    },
  };
}

/** Waits for `/readyz` to answer 200 (the identity provider's keys read). */
export async function waitUntilReady(graphqlUrl: string, timeoutMs = 10_000): Promise<void> {
  let ready = false;
  const deadline = Date.now() + timeoutMs;
  while (!ready) {
    if (Date.now() > deadline) throw new Error('The gateway did not become ready.');
    ready = (await fetch(new URL('/readyz', graphqlUrl))).status === 200;
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
