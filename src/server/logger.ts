import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { LogLevel } from '../config/config.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';

/**
 * The gateway's JSON logger. Nothing logs request headers on purpose; the redaction is a second
 * line of defence should an object carrying them ever be logged.
 *
 * By default lines go to stdout with a synchronous write, as Node's own `process.stdout` does for
 * files and pipes: pino's default destination writes each line through libuv's thread pool, and
 * that hop (a thread woken, then an event back to the loop) cost one more read and one more
 * write system call per GraphQL operation than the line itself, and a line still in the pool is
 * lost if the process dies.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, traceIds = false): Logger {
  return pino(
    {
      level,
      // With tracing on, each line says which trace it belongs to.
      ...(traceIds && { mixin: traceContext }),
      base: { service: GATEWAY_NAME, version: GATEWAY_VERSION },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          'req.headers.authorization',
          'request.headers.authorization',
          'options.headers.authorization',
          '*.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * The logger for the one line per GraphQL operation: `logger` without its redaction pass. That
 * line is made only of scalars the gateway picks and a sanitised failure cause, so redaction can
 * find nothing in it, yet its wildcard path costs 4 to 8 us on every line (half of what the line
 * costs). Every other line keeps the redaction.
 */
export function operationLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

function traceContext(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/**
 * Fastify's per-request "incoming request" and "request completed" lines are replaced by the
 * one line per GraphQL operation (see apollo/operation-log-plugin.ts); errors are still logged.
 */
export class OperationLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
  }
}
