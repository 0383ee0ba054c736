/**
 * `npm start`: the gateway, configured from the environment (see the README).
 */
import { ConfigError, loadConfig, type GatewayConfig } from './config/config.js';
import { createGateway } from './server/gateway.js';

let config: GatewayConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // One clear line, before any logger exists.
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const gateway = await createGateway(config);
const url = await gateway.listen();
gateway.logger.info({ url, graphBaseUrl: config.graph.baseUrl }, 'gateway listening');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    gateway.logger.info({ signal, graceMs: config.shutdownGraceMs }, 'draining before exit');
    gateway.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        gateway.logger.error({ err: error instanceof Error ? { message: error.message } : String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
