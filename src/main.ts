/**
 * `npm start`: the gateway, configured from the environment (see docs/configuration.md).
 */
import { failureCause } from './errors/gateway-error.js';
import { exitOnUnhandledErrors, loadConfigOrExit, stopOnSignals } from './process-lifecycle.js';
import { createGateway } from './server/gateway.js';

const config = loadConfigOrExit(process.env);
const gateway = await createGateway(config);
exitOnUnhandledErrors(gateway.logger);
const url = await gateway.listen();
gateway.logger.info({ url, graphBaseUrl: config.graph.baseUrl }, 'gateway listening');

stopOnSignals(
  async (signal) => {
    gateway.logger.info({ signal, graceMs: config.shutdownGraceMs }, 'draining before exit');
    await gateway.shutdown();
  },
  (error) => gateway.logger.error({ err: failureCause(error) }, 'shutdown failed'),
);
