/**
 * The contacts screen as a page asks for it (`BENCH_ONLY=contacts-screen npm run bench`, and in
 * the full run): the first page of 50 contacts through `contacts`, each with a 48 px thumbnail,
 * against the simulator as Outlook behaves (4 requests in flight per mailbox, 50 ms per request
 * or batch item) behind 30 ms of network per HTTP request.
 *
 * Each round opens the screen as a new caller (a token Graph has not seen from the gateway),
 * then opens it again as the same caller: the first load is what any visit cost before there was
 * a cache, the second what a repeat visit costs.
 *
 * Then: the same page with `url(size: 48)` instead of `dataUrl` (the answer's size), and 10 new
 * callers each opening the screen once (the cache is per caller: 10 first loads).
 *
 * Reported: wall time (median and spread) and Graph HTTP requests per load, against the physical
 * limit of a first load: the list call (one item and one network trip) + ceil(50 / 4) x 50 ms +
 * batches x 30 ms, where the batches are ceil(50 / 20) = 3 (a thumbnail asked for alone is read
 * with its `$value` alone).
 */
import { randomBytes } from 'node:crypto';
import type { GraphSimulator } from '../src/simulator/graph/graph-simulator.js';
import { outlookSimulator } from './lists.js';
import { median } from './load.js';
import type { RunningProcess } from './processes.js';
import { startGatewayProcess } from './targets.js';

export const CONTACTS_SCREEN = { contacts: 120, pageSize: 50, itemMs: 50, networkMs: 30, outlookConcurrency: 4, rounds: 5, batchMax: 20 } as const;

const INVITATION = 'bench-screen';

/** The screen's query, its thumbnails as `data:` URLs or as URLs on the gateway (which the browser keeps). */
const screen = (thumbnail: 'dataUrl' | 'url') => `query ContactList($invitationId: ID!, $first: Int, $after: String) {
  contacts(invitationId: $invitationId, first: $first, after: $after) {
    edges { cursor node { id displayName photo { thumbnail: ${thumbnail}(size: 48) } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export interface ContactsScreenLoad {
  load: 'first (new caller)' | 'second (same caller)';
  wallMs: number;
  wallMsRounds: number[];
  graphRequests: number;
  graphRequestsRounds: number[];
  /** Thumbnails missing from an answer (errors, or none came), over all rounds. */
  missing: number;
}

export interface ContactsScreenResult {
  loads: ContactsScreenLoad[];
  /** The list call + ceil(contacts / 4) x item + (1 + batches) x network. */
  physicalLimitMs: number;
  /** The JSON answer's bytes for one page, thumbnails as `data:` URLs. */
  answerBytes: number;
  /** The same page's bytes with `url` instead of `dataUrl`. */
  answerBytesWithUrls: number;
  /** 10 new callers, each opening the screen once: Graph HTTP requests in all (the cache is per caller). */
  tenCallersGraphRequests: number;
}

/** Opens the screen as `token`: answers how many thumbnails did not come, and the answer's size. */
async function openScreen(url: string, token: string, thumbnail: 'dataUrl' | 'url' = 'dataUrl'): Promise<{ missing: number; bytes: number }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: screen(thumbnail), variables: { invitationId: INVITATION, first: CONTACTS_SCREEN.pageSize } }),
  });
  const text = await response.text();
  const thumbnails = text.match(thumbnail === 'dataUrl' ? /data:image\/jpeg;base64/g : /"\/photos\//g)?.length ?? 0;
  return { missing: Math.max(0, CONTACTS_SCREEN.pageSize - thumbnails), bytes: Buffer.byteLength(text) };
}

/** 120 contacts in the mailbox, every one with a picture, so a page of 50 asks for 50 thumbnails. */
async function seed(simulator: GraphSimulator): Promise<void> {
  const { default: sharp } = await import('sharp');
  const picture = await sharp({ create: { width: 240, height: 240, channels: 3, background: '#3366cc' } }).jpeg().toBuffer();
  simulator.addContacts(
    INVITATION,
    Array.from({ length: CONTACTS_SCREEN.contacts }, (_, index) => ({
      id: `bench-contact-${String(index).padStart(3, '0')}`,
      displayName: `Contact ${String(index).padStart(3, '0')}`,
      emailAddresses: [{ address: `contact${index}@example.com` }],
      picture,
    })),
  );
}

export async function runContactsScreen(log: (line: string) => void): Promise<ContactsScreenResult> {
  const simulator = outlookSimulator(CONTACTS_SCREEN);
  const baseUrl = await simulator.listen();
  let gateway: RunningProcess | undefined;
  try {
    await seed(simulator);
    // Production, as the bench runs every gateway: url needs the key its URLs are signed with.
    gateway = await startGatewayProcess(baseUrl, { GRAPH_BATCH_MAX: String(CONTACTS_SCREEN.batchMax), PHOTO_URL_SECRET: randomBytes(32).toString('base64url') });
    const samples = { first: [] as Array<{ wall: number; requests: number }>, second: [] as Array<{ wall: number; requests: number }> };
    let missing = { first: 0, second: 0 };
    let answerBytes = 0;
    // One warm-up visit (documents parsed, connections opened), then the rounds.
    for (let round = -1; round < CONTACTS_SCREEN.rounds; round++) {
      const token = `bench-screen-caller-${round + 1}`;
      for (const load of ['first', 'second'] as const) {
        const before = simulator.httpRequestCount;
        const started = performance.now();
        const answer = await openScreen(gateway.url, token);
        const wall = performance.now() - started;
        if (round < 0) continue;
        const requests = simulator.httpRequestCount - before;
        samples[load].push({ wall, requests });
        missing = { ...missing, [load]: missing[load] + answer.missing };
        answerBytes = answer.bytes;
        log(`  round ${round + 1} ${load} load: ${wall.toFixed(0)} ms, ${requests} Graph requests, ${answer.missing} thumbnails missing`);
      }
    }
    const withUrls = await openScreen(gateway.url, 'bench-screen-url-caller', 'url');
    const before = simulator.httpRequestCount;
    for (let caller = 0; caller < 10; caller++) await openScreen(gateway.url, `bench-screen-one-of-ten-${caller}`);
    const tenCallersGraphRequests = simulator.httpRequestCount - before;
    log(`  10 new callers: ${tenCallersGraphRequests} Graph requests; the page with url: ${withUrls.bytes} bytes`);
    const batches = Math.ceil(CONTACTS_SCREEN.pageSize / CONTACTS_SCREEN.batchMax);
    const physicalLimitMs =
      CONTACTS_SCREEN.itemMs + Math.ceil(CONTACTS_SCREEN.pageSize / CONTACTS_SCREEN.outlookConcurrency) * CONTACTS_SCREEN.itemMs + (1 + batches) * CONTACTS_SCREEN.networkMs;
    const summary = (load: 'first' | 'second', name: ContactsScreenLoad['load']): ContactsScreenLoad => ({
      load: name,
      wallMs: median(samples[load].map((sample) => sample.wall)),
      wallMsRounds: samples[load].map((sample) => Math.round(sample.wall)),
      graphRequests: median(samples[load].map((sample) => sample.requests)),
      graphRequestsRounds: samples[load].map((sample) => sample.requests),
      missing: missing[load],
    });
    return {
      loads: [summary('first', 'first (new caller)'), summary('second', 'second (same caller)')],
      physicalLimitMs,
      answerBytes,
      answerBytesWithUrls: withUrls.bytes,
      tenCallersGraphRequests,
    };
  } finally {
    await gateway?.stop();
    await simulator.close();
  }
}

export function formatContactsScreen(result: ContactsScreenResult): string {
  const [first, second] = result.loads;
  return [
    `### Contacts screen: the first page of ${CONTACTS_SCREEN.pageSize} of ${CONTACTS_SCREEN.contacts} contacts through \`contacts\`, each with dataUrl(size: 48); Outlook's 4 in flight, ${CONTACTS_SCREEN.itemMs} ms per item, ${CONTACTS_SCREEN.networkMs} ms network per HTTP request, ${CONTACTS_SCREEN.rounds} rounds`,
    '',
    '| load | wall ms (median) | rounds | Graph HTTP requests (median) | rounds | x physical limit | thumbnails missing |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...result.loads.map(
      (load) =>
        `| ${load.load} | ${load.wallMs.toFixed(0)} | ${load.wallMsRounds.join(', ')} | ${load.graphRequests} | ${load.graphRequestsRounds.join(', ')} | ${(load.wallMs / result.physicalLimitMs).toFixed(2)} | ${load.missing} |`,
    ),
    '',
    `- physical limit of a first load: ${result.physicalLimitMs} ms (list call ${CONTACTS_SCREEN.itemMs} ms + ${Math.ceil(CONTACTS_SCREEN.pageSize / CONTACTS_SCREEN.outlookConcurrency)} x ${CONTACTS_SCREEN.itemMs} ms + ${1 + Math.ceil(CONTACTS_SCREEN.pageSize / CONTACTS_SCREEN.batchMax)} HTTP requests x ${CONTACTS_SCREEN.networkMs} ms)`,
    `- first load within 1.2x the physical limit: ${(first!.wallMs / result.physicalLimitMs).toFixed(2)}x`,
    `- first load at most 4 Graph HTTP requests: ${first!.graphRequests}`,
    `- second load, same caller within CONTACT_LIST_CACHE_TTL_S (60 s) and PHOTO_CACHE_TTL_S: ${second!.graphRequests} Graph HTTP requests (target 0: the list's page and its pictures both cached), ${second!.wallMs.toFixed(0)} ms (target under 50 ms)`,
    `- 10 new callers each opening the screen once: ${result.tenCallersGraphRequests} Graph HTTP requests (${(result.tenCallersGraphRequests / first!.graphRequests).toFixed(1)}x a first load's: no sharing across callers, by design)`,
    `- the answer for ${CONTACTS_SCREEN.pageSize} contacts: ${(result.answerBytes / 1024).toFixed(1)} KiB with dataUrl(size: 48), ${(result.answerBytesWithUrls / 1024).toFixed(1)} KiB with url(size: 48) (${(result.answerBytes / result.answerBytesWithUrls).toFixed(1)}x smaller; the browser then fetches each picture once and keeps it)`,
  ].join('\n');
}
