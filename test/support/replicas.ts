import { loadConfig } from '../../src/config/config.js';
import { createGateway, type Gateway } from '../../src/server/gateway.js';
import { UPDATE_PHOTO, postGraphQL, type GraphQLResult } from './graphql.js';
import { LogCapture } from './stack.js';

/** A gateway replica in this process, its log lines captured. */
export interface Replica {
  gateway: Gateway;
  url: string;
  logs: LogCapture;
}

/** What `/readyz` answers (status 200 or 503 alike). */
export async function readiness(replica: Replica): Promise<Record<string, unknown>> {
  return (await (await fetch(new URL('/readyz', replica.url))).json()) as Record<string, unknown>;
}

/** A replica on `graphBaseUrl` with `env` (the Redis settings among it), not waited for. */
export async function startReplica(graphBaseUrl: string, env: Record<string, string>): Promise<Replica> {
  const logs = new LogCapture();
  const gateway = await createGateway(loadConfig({ PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graphBaseUrl, ...env }), { logDestination: logs });
  return { gateway, url: await gateway.listen(), logs };
}

/** Waits until `/readyz` says `mailboxLimit` is `state` (10 s at most). */
export async function waitForLimit(replica: Replica, state: 'shared' | 'local', ms = 10_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ready = await readiness(replica);
    if (ready['mailboxLimit'] === state) return ready;
    if (Date.now() > deadline) {
      // Its last lines about Redis (at LOG_LEVEL=debug, the connections' errors too) say why.
      const lines = replica.logs.lines.filter((line) => line.includes('redis')).slice(-8);
      throw new Error(`The replica's limit did not become ${state}: /readyz says ${JSON.stringify(ready)}. Its last Redis log lines:\n${lines.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until `/readyz` says the limit is local for `reason` (5 s at most). */
export async function waitForReason(replica: Replica, reason: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await readiness(replica))['mailboxLimitReason'] !== reason) {
    if (Date.now() > deadline) throw new Error(`/readyz never said ${reason}: ${JSON.stringify(await readiness(replica))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function update(replica: Replica, invitationId: string, i: number, token = 'shared-token'): Promise<GraphQLResult> {
  return postGraphQL(replica.url, UPDATE_PHOTO, { invitationId, contactId: `contact-${i}`, input: { height: i + 1, width: i + 1 } }, { token });
}

/** `count` updates to one mailbox, spread over `over` in turn. */
export function burst(count: number, invitationId: string, over: Replica[]): Promise<GraphQLResult[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => update(over[i % over.length]!, invitationId, i)));
}
