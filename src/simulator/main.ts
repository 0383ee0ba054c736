/**
 * `npm run simulator`: the Graph simulator on its own, for pointing a gateway (or a benchmark)
 * at it. SIMULATOR_PORT (default 4001), SIMULATOR_HOST (127.0.0.1), SIMULATOR_LATENCY_MS (per request
 * or batch item), SIMULATOR_NETWORK_LATENCY_MS (per HTTP request) and SIMULATOR_MAILBOX_CONCURRENCY
 * set it up.
 */
import { GraphSimulator } from './graph/graph-simulator.js';

function numberFrom(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) {
    process.stderr.write(`Invalid configuration: ${name} must be a whole number (got ${JSON.stringify(value)}).\n`);
    process.exit(1);
  }
  return Number(value);
}

const latencyMs = numberFrom('SIMULATOR_LATENCY_MS');
const networkLatencyMs = numberFrom('SIMULATOR_NETWORK_LATENCY_MS');
const mailboxConcurrency = numberFrom('SIMULATOR_MAILBOX_CONCURRENCY');
const simulator = new GraphSimulator({
  ...(latencyMs !== undefined && { latencyMs }),
  ...(networkLatencyMs !== undefined && { networkLatencyMs }),
  ...(mailboxConcurrency !== undefined && { mailboxConcurrency }),
  requestLogSize: 0,
});
const baseUrl = await simulator.listen(numberFrom('SIMULATOR_PORT') ?? 4001, process.env['SIMULATOR_HOST'] || '127.0.0.1');
process.stdout.write(`Graph simulator listening: GRAPH_BASE_URL=${baseUrl}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void simulator.close().then(() => process.exit(0)));
}
