import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/server/gateway.js';
import { GraphSimulator, type GraphSimulatorOptions } from '../../src/simulator/graph/graph-simulator.js';

/** Collects the gateway's log lines, as written, for assertions. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }

  /** The parsed lines with this message. */
  entries(message?: string): Array<Record<string, unknown>> {
    return this.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => message === undefined || entry['msg'] === message);
  }
}

export interface Stack {
  simulator: GraphSimulator;
  gateway: Gateway;
  /** The gateway's GraphQL endpoint. */
  url: string;
  logs: LogCapture;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Environment for the gateway, on top of an ephemeral loopback port and the simulator's URL. */
  env?: Record<string, string>;
  simulator?: GraphSimulatorOptions;
  gateway?: GatewayOptions;
}

/**
 * The photo cache off unless a test turns it on: most suites count the Graph calls an operation
 * makes, each test against its own simulated Graph (reset between tests), which a cache kept
 * across tests would answer instead. The cache's own suite (photo-cache.test.ts) turns it on.
 */
export const NO_PHOTO_CACHE = { PHOTO_CACHE_TTL_S: '0' } as const;

/** The simulator and a gateway in front of it, each on an ephemeral loopback port. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const simulator = new GraphSimulator(options.simulator);
  const graphBaseUrl = await simulator.listen();
  const logs = new LogCapture();
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graphBaseUrl, ...NO_PHOTO_CACHE, ...options.env });
  const gateway = await createGateway(config, { logDestination: logs, ...options.gateway });
  const url = await gateway.listen();
  return {
    simulator,
    gateway,
    url,
    logs,
    async close() {
      await gateway.shutdown();
      await simulator.close();
    },
  };
}
