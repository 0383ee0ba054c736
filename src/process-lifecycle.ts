/**
 * What the gateway's entry points (`npm start`, `npm run demo`) share about the process itself:
 * reading the configuration or stopping with one line, draining on SIGTERM/SIGINT, and exiting
 * on an error nothing handled.
 */
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Env, type GatewayConfig } from './config/config.js';
import { failureCause, redactTokens } from './errors/gateway-error.js';
import { flushTraces } from './telemetry/flush.js';

/** The configuration, or exit 1 with the one line that names the bad value. */
export function loadConfigOrExit(env: Env): GatewayConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Written before any logger exists, as plain text, so that it reads well in any console.
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/**
 * Runs `stop` on the first SIGTERM or SIGINT, exports the spans still buffered, then exits 0 (or 1 when `stop` fails). A second
 * signal while stopping is ignored: the grace period is the gateway's to end.
 */
export function stopOnSignals(stop: (signal: NodeJS.Signals) => Promise<void>, onFailure: (error: unknown) => void): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    stop(signal)
      .then(flushTraces)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          onFailure(error);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}

/**
 * Logs an unhandled rejection or uncaught exception and exits 1, so that a supervisor restarts
 * a process whose state is no longer known. The log line has the error's name, code, message
 * and stack, with bearer tokens redacted; never the error object itself, which for got's errors
 * carries the request headers.
 */
export function exitOnUnhandledErrors(logger: Logger): void {
  const crash = (kind: string) => (error: unknown) => {
    try {
      const stack = error instanceof Error && error.stack !== undefined ? redactTokens(error.stack) : undefined;
      logger.fatal({ err: { ...failureCause(error), stack } }, `${kind}: exiting`);
    } finally {
      process.exit(1);
    }
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));
}
