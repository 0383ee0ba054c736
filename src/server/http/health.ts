import type { FastifyPluginAsync } from 'fastify';
import type { GatewayServices } from '../services.js';
import type { Draining } from './draining.js';

export interface HealthOptions {
  draining: Draining;
  services: Pick<GatewayServices, 'shared' | 'signIn'>;
}

/**
 * `/healthz` (the process lives: 200 until it exits, draining too) and `/readyz` (it takes
 * GraphQL requests: 503 while draining, and with sign-in while the identity provider's keys
 * cannot be read, before the first read or since a read failed, as a token of a new key could
 * not be checked). With Redis, `/readyz`'s body says whether the mailbox limit is shared right
 * now or kept per process, and why not in one word (`mailboxLimitReason`: `connecting`,
 * `disconnected`, `timeout`, `moved`, `clusterdown`, `auth` ...): shared means that the limit's
 * own commands succeed, not merely that a connection is open.
 */
export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, { draining, services: { shared, signIn } }) => {
  const mailboxLimit = (): Record<string, string> => {
    if (!shared) return {};
    const reason = shared.limiter.localReason;
    return reason === undefined ? { mailboxLimit: 'shared' } : { mailboxLimit: 'local', mailboxLimitReason: reason };
  };
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (draining.started) return reply.code(503).send({ status: 'draining', ...mailboxLimit() });
    const signInProblem = signIn?.verifier.notReady;
    if (signInProblem) return reply.code(503).send({ status: signInProblem.status, signIn: signInProblem.reason, ...mailboxLimit() });
    return { status: 'ready', ...mailboxLimit() };
  });
};
