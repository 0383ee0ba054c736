/**
 * A contacts screen, measured (`BENCH_ONLY=lists npm run bench`, and in the full run): 50
 * contacts of one mailbox, each with a 48 px thumbnail, against the simulator as Outlook behaves
 * (4 requests in flight per mailbox, 50 ms per request or batch item) behind 30 ms of network per
 * HTTP request. Side by side, in alternating rounds:
 *
 * (a) `contactPhotos` over JSON batches (the default, GRAPH_BATCH_MAX=20);
 * (b) the same query with GRAPH_BATCH_MAX=1: each read its own GET;
 * (c) 5 requests of 10 aliased `contactPhoto` fields with GRAPH_BATCH_MAX=1: what a frontend did
 *     before this field (the Graph-call cap allowed 10 per operation), each read its own GET;
 * (d) the same 5 requests with batching on: each becomes one batch.
 *
 * Reported: wall time (median and spread), Graph HTTP requests and upstream 429s per list,
 * against the physical limit `ceil(reads / 4) x 50 ms + batches x 30 ms`.
 */
import { GraphSimulator } from '../src/simulator/graph/graph-simulator.js';
import { median } from './load.js';
import type { RunningProcess } from './processes.js';
import { startGatewayProcess } from './targets.js';

export const LISTS = { contacts: 50, aliasesPerRequest: 10, itemMs: 50, networkMs: 30, outlookConcurrency: 4, rounds: 5, batchMax: 20 } as const;

const TOKEN = 'bench-token';
const INVITATION = 'bench-list';
const contactIds = Array.from({ length: LISTS.contacts }, (_, index) => `contact-${index}`);

const LIST = `query ContactPhotoList($invitationId: ID!, $contactIds: [ID!]!) {
  contactPhotos(invitationId: $invitationId, contactIds: $contactIds) { invitationId contactId id thumbnail: dataUrl(size: 48) }
}`;

/** 10 aliased fields: the operation's aliases (at most 15) leave no room to alias `dataUrl` too. */
function aliased(ids: readonly string[]): string {
  return `{ ${ids.map((id, index) => `c${index}: contactPhoto(invitationId: "${INVITATION}", contactId: "${id}") { invitationId contactId id dataUrl(size: 48) }`).join(' ')} }`;
}

interface Variant {
  name: string;
  batched: boolean;
  /** The GraphQL requests that read the whole list, sent at once, and the thumbnails each answers. */
  requests: Array<{ query: string; variables: Record<string, unknown>; thumbnails: number }>;
}

const VARIANTS: Variant[] = [
  { name: '(a) contactPhotos, batched', batched: true, requests: [{ query: LIST, variables: { invitationId: INVITATION, contactIds }, thumbnails: LISTS.contacts }] },
  { name: '(b) contactPhotos, GRAPH_BATCH_MAX=1', batched: false, requests: [{ query: LIST, variables: { invitationId: INVITATION, contactIds }, thumbnails: LISTS.contacts }] },
  {
    name: '(c) 5 x 10 aliased contactPhoto, GRAPH_BATCH_MAX=1 (before)',
    batched: false,
    requests: Array.from({ length: LISTS.contacts / LISTS.aliasesPerRequest }, (_, index) => ({
      query: aliased(contactIds.slice(index * LISTS.aliasesPerRequest, (index + 1) * LISTS.aliasesPerRequest)),
      variables: {},
      thumbnails: LISTS.aliasesPerRequest,
    })),
  },
];
VARIANTS.push({ ...VARIANTS[2]!, name: '(d) 5 x 10 aliased contactPhoto, batched', batched: true });

export interface ListResult {
  variant: string;
  wallMs: number;
  wallMsRounds: number[];
  graphRequests: number;
  upstream429: number;
  /** `ceil(reads / 4) x item + batches x network` for what this variant sent. */
  physicalLimitMs: number;
  errors: number;
}

/** Sends one request; answers how many of its thumbnails did not come (errors, or missing). */
async function post(url: string, request: Variant['requests'][number]): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query: request.query, variables: request.variables }),
  });
  const answer = (await response.json()) as { data?: Record<string, unknown> };
  const thumbnails = JSON.stringify(answer.data ?? {}).match(/data:image\/jpeg;base64/g)?.length ?? 0;
  return request.thumbnails - thumbnails;
}

/** The simulator as Outlook behaves for the list scenarios: `itemMs` per request or batch item, `networkMs` per HTTP request, `outlookConcurrency` in flight per mailbox. */
export function outlookSimulator(settings: { itemMs: number; networkMs: number; outlookConcurrency: number }): GraphSimulator {
  return new GraphSimulator({ latencyMs: settings.itemMs, networkLatencyMs: settings.networkMs, mailboxConcurrency: settings.outlookConcurrency, requestLogSize: 0 });
}

export async function runLists(log: (line: string) => void): Promise<ListResult[]> {
  const simulator = outlookSimulator(LISTS);
  const baseUrl = await simulator.listen();
  const gateways = new Map<boolean, RunningProcess>();
  try {
    const { default: sharp } = await import('sharp');
    const jpeg = await sharp({ create: { width: 240, height: 240, channels: 3, background: '#3366cc' } }).jpeg().toBuffer();
    for (const id of contactIds) {
      await fetch(`${baseUrl}/invitations/${INVITATION}/invitedUser/contacts/${id}/photo/$value`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'image/jpeg' },
        body: jpeg,
      });
    }
    // Unbatched, a list of 50 thumbnails is 100 calls waiting for one mailbox: more than one
    // caller's share of the default queue (75 of 100). A queue of 200 lets every variant finish.
    gateways.set(true, await startGatewayProcess(baseUrl, { GRAPH_BATCH_MAX: String(LISTS.batchMax), GRAPH_MAILBOX_QUEUE: '200' }));
    gateways.set(false, await startGatewayProcess(baseUrl, { GRAPH_BATCH_MAX: '1', GRAPH_MAILBOX_QUEUE: '200' }));
    const samples = new Map(VARIANTS.map((variant) => [variant, { walls: [] as number[], requests: [] as number[], throttled: [] as number[], errors: 0 }]));
    // One warm-up list per variant (first documents parsed, connections opened), then the rounds,
    // each visiting every variant, in a rotated order.
    for (let round = -1; round < LISTS.rounds; round++) {
      for (let step = 0; step < VARIANTS.length; step++) {
        const variant = VARIANTS[(step + Math.max(0, round)) % VARIANTS.length]!;
        const url = gateways.get(variant.batched)!.url;
        const requestsBefore = simulator.httpRequestCount;
        const throttledBefore = simulator.throttledCount;
        const started = performance.now();
        const errors = (await Promise.all(variant.requests.map((request) => post(url, request)))).reduce((sum, count) => sum + count, 0);
        const wall = performance.now() - started;
        if (round < 0) continue;
        const entry = samples.get(variant)!;
        entry.walls.push(wall);
        entry.requests.push(simulator.httpRequestCount - requestsBefore);
        entry.throttled.push(simulator.throttledCount - throttledBefore);
        entry.errors += errors;
        log(`  round ${round + 1} ${variant.name}: ${wall.toFixed(0)} ms, ${simulator.httpRequestCount - requestsBefore} Graph requests, ${simulator.throttledCount - throttledBefore} upstream 429, ${errors} errors`);
      }
    }
    const reads = 2 * LISTS.contacts;
    return VARIANTS.map((variant) => {
      const entry = samples.get(variant)!;
      const graphRequests = median(entry.requests);
      return {
        variant: variant.name,
        wallMs: median(entry.walls),
        wallMsRounds: entry.walls.map(Math.round),
        graphRequests,
        upstream429: entry.throttled.reduce((sum, count) => sum + count, 0),
        physicalLimitMs: Math.ceil(reads / LISTS.outlookConcurrency) * LISTS.itemMs + (variant.batched ? graphRequests : reads / LISTS.outlookConcurrency) * LISTS.networkMs,
        errors: entry.errors,
      };
    });
  } finally {
    for (const gateway of gateways.values()) await gateway.stop();
    await simulator.close();
  }
}

export function formatLists(results: ListResult[]): string {
  const [batched, , before] = results;
  const targets = [
    `(a) within 1.2x the physical limit: ${(batched!.wallMs / batched!.physicalLimitMs).toFixed(2)}x`,
    `(a) at least 1.3x faster than (c): ${(before!.wallMs / batched!.wallMs).toFixed(2)}x`,
    `(a) 0 upstream 429: ${batched!.upstream429}`,
    `(a) at most ${Math.ceil((2 * LISTS.contacts) / LISTS.batchMax) + 1} Graph HTTP requests: ${batched!.graphRequests}`,
  ];
  return [
    `### Contact lists: ${LISTS.contacts} contacts with dataUrl(size: 48), Outlook's 4 in flight, ${LISTS.itemMs} ms per item, ${LISTS.networkMs} ms network per HTTP request, ${LISTS.rounds} rounds`,
    '',
    '| variant | wall ms (median) | rounds | Graph HTTP requests | upstream 429 | physical limit ms | x limit | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (result) =>
        `| ${result.variant} | ${result.wallMs.toFixed(0)} | ${result.wallMsRounds.join(', ')} | ${result.graphRequests} | ${result.upstream429} | ${result.physicalLimitMs.toFixed(0)} | ${(result.wallMs / result.physicalLimitMs).toFixed(2)} | ${result.errors} |`,
    ),
    '',
    ...targets.map((line) => `- ${line}`),
  ].join('\n');
}
