/**
 * Sign-in's cost (`BENCH_ONLY=sign-in npm run bench`, and in the full run): the same gateway in
 * passthrough mode and with `AUTH_MODE=obo` and a warm token cache (one user, whose Graph token
 * is exchanged once), side by side in alternating rounds at a fixed, paced rate well below
 * saturation. Reported per round: CPU time of the gateway's process per answered call (user +
 * system, from /proc/PID/stat), and p50 / p99 latency; the ratio obo / passthrough per round, and
 * its median, against the target: the token check under 10% CPU per call.
 */
import { EntraSimulator } from '../src/simulator/entra/entra-simulator.js';
import { GraphSimulator } from '../src/simulator/graph/graph-simulator.js';
import { measureCpuPerCall } from './cpu.js';
import { median, type Workload } from './load.js';
import { waitUntilReady, type RunningProcess } from './processes.js';
import { startGatewayProcess } from './targets.js';

export const SIGN_IN = { rate: 300, durationS: 6, warmUpS: 1, rounds: 5 } as const;

const UPDATE = 'mutation UpdateContactPhoto($invitationId: ID!, $contactId: ID!, $input: ProfilePhotoInput!) { updateContactPhoto(invitationId: $invitationId, contactId: $contactId, input: $input) { id height width } }';

export interface SignInRound {
  passthroughUs: number;
  oboUs: number;
  ratio: number;
  passthroughP50Ms: number;
  oboP50Ms: number;
  passthroughP99Ms: number;
  oboP99Ms: number;
  errors: number;
}

export interface SignInResult {
  rounds: SignInRound[];
  medianRatio: number;
  passthroughUs: number;
  oboUs: number;
  tokenRequests: number;
}

function workload(url: string, token: string): Workload {
  const path = new URL(url).pathname;
  return {
    url,
    request(n) {
      const mailbox = n % 1000;
      const body = JSON.stringify({ query: UPDATE, variables: { invitationId: `bench-mailbox-${mailbox}`, contactId: `c-${mailbox}`, input: { height: (n % 500) + 1, width: 1 } } });
      return { method: 'POST', path, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } };
    },
    isSuccess: (body) => body.startsWith('{"data":{"updateContactPhoto":{"id"'),
  };
}

/** One paced run; answers the process's CPU microseconds per answered call, and the latencies. */
async function measure(target: RunningProcess, load: Workload): Promise<{ us: number; p50Ms: number; p99Ms: number; errors: number }> {
  const { us, result } = await measureCpuPerCall(target.pid, load, SIGN_IN);
  return { us, p50Ms: result.p50Ms, p99Ms: result.p99Ms, errors: result.errors };
}

export async function runSignIn(log: (line: string) => void): Promise<SignInResult> {
  const entra = new EntraSimulator({ graphTokenLifetimeS: 3 * 3600 });
  await entra.listen();
  // Exchanged tokens are the user's; passthrough's token is its own principal.
  const graph = new GraphSimulator({ principal: async (token) => (await entra.graphPrincipal(token)) ?? token, requestLogSize: 0 });
  const graphBaseUrl = await graph.listen();
  const started: RunningProcess[] = [];
  try {
    const passthrough = await startGatewayProcess(graphBaseUrl);
    started.push(passthrough);
    const obo = await startGatewayProcess(graphBaseUrl, entra.gatewayEnv());
    started.push(obo);
    await waitUntilReady(obo.url);
    const userToken = await entra.userToken({ oid: 'bench-user', expiresInS: 3 * 3600 });
    const loads = { passthrough: workload(passthrough.url, 'bench-token'), obo: workload(obo.url, userToken) };
    const rounds: SignInRound[] = [];
    for (let round = 0; round < SIGN_IN.rounds; round++) {
      // Alternate which goes first, so that drift of the machine hits both alike.
      const order = round % 2 === 0 ? (['passthrough', 'obo'] as const) : (['obo', 'passthrough'] as const);
      const results: Partial<Record<'passthrough' | 'obo', Awaited<ReturnType<typeof measure>>>> = {};
      for (const name of order) results[name] = await measure(name === 'obo' ? obo : passthrough, loads[name]);
      const { passthrough: plain, obo: signedIn } = results as Required<typeof results>;
      const entry = {
        passthroughUs: plain.us,
        oboUs: signedIn.us,
        ratio: signedIn.us / plain.us,
        passthroughP50Ms: plain.p50Ms,
        oboP50Ms: signedIn.p50Ms,
        passthroughP99Ms: plain.p99Ms,
        oboP99Ms: signedIn.p99Ms,
        errors: plain.errors + signedIn.errors,
      };
      rounds.push(entry);
      log(`  round ${round + 1}: passthrough ${entry.passthroughUs.toFixed(0)} us/call, obo ${entry.oboUs.toFixed(0)} us/call (x${entry.ratio.toFixed(3)}), p50 ${entry.passthroughP50Ms.toFixed(2)} / ${entry.oboP50Ms.toFixed(2)} ms, errors ${entry.errors}`);
    }
    return {
      rounds,
      medianRatio: median(rounds.map((round) => round.ratio)),
      passthroughUs: median(rounds.map((round) => round.passthroughUs)),
      oboUs: median(rounds.map((round) => round.oboUs)),
      tokenRequests: entra.tokenRequests.length,
    };
  } finally {
    for (const process of started) await process.stop();
    await graph.close();
    await entra.close();
  }
}

export function formatSignIn(result: SignInResult): string {
  const ratios = result.rounds.map((round) => round.ratio);
  return [
    `### Sign-in: CPU per call, AUTH_MODE=obo (warm token cache) against passthrough, ${SIGN_IN.rate} calls/s, ${SIGN_IN.rounds} rounds of ${SIGN_IN.durationS} s`,
    '',
    '| round | passthrough µs/call | obo µs/call | obo / passthrough | p50 ms (passthrough / obo) | p99 ms (passthrough / obo) | errors |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...result.rounds.map(
      (round, index) =>
        `| ${index + 1} | ${round.passthroughUs.toFixed(0)} | ${round.oboUs.toFixed(0)} | ${round.ratio.toFixed(3)} | ${round.passthroughP50Ms.toFixed(2)} / ${round.oboP50Ms.toFixed(2)} | ${round.passthroughP99Ms.toFixed(2)} / ${round.oboP99Ms.toFixed(2)} | ${round.errors} |`,
    ),
    '',
    `- Median: passthrough ${result.passthroughUs.toFixed(0)} µs, obo ${result.oboUs.toFixed(0)} µs per call; ratio ${result.medianRatio.toFixed(3)} (rounds ${Math.min(...ratios).toFixed(3)} to ${Math.max(...ratios).toFixed(3)}).`,
    `- Token requests for the whole run: ${result.tokenRequests} (the cache is warm after the first call).`,
    `- Target, sign-in under 10% CPU per call: ${result.medianRatio < 1.1 ? 'met' : '**not met**'}.`,
  ].join('\n');
}
