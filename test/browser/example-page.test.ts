import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { runCompiled, type CompiledProcess } from '../support/process.js';

/**
 * The example page (examples/web) in Debian's Chromium, headless, against `npm run demo`'s
 * simulator and gateway, with the contacts the demo seeds (src/simulator/graph/demo-contacts.ts):
 * pictures go in through the page's file input, as a person would pick them, and the thumbnails
 * the page then shows are read back from its pixels; Graph's failures are made through the
 * simulator's fault API over HTTP, as the demo prints it.
 */

const CHROMIUM = '/usr/bin/chromium';
const HEIC = readFileSync(new URL('../fixtures/images/red-blue-64x48.heic', import.meta.url));

let demo: CompiledProcess;
let browser: Browser;
let page: Page;
let pageUrl: string;
/** The simulator's fault API, as the demo prints it (`.../_simulator/`). */
let faultApi: string;
/** Grace Hopper's contact id, from the demo's printed curl that fails her picture. */
let graceId: string;
const requested: string[] = [];
/** The page's GraphQL requests (POST /graphql), in order. */
const graphqlRequests: string[] = [];
/** What the browser wrote to the page's console, as `type: text`. */
const consoleMessages: string[] = [];
/** The console as it was once the first page was on screen. */
let consoleAtLoad: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}. npm run test:browser needs Debian's chromium: apt-get install chromium, then run it again.`);
  }
  demo = runCompiled('demo.js', { PORT: '0' });
  await demo.printed('Press Ctrl+C to stop.');
  pageUrl = /Open the example page: (\S+)/.exec(demo.output())![1]!;
  faultApi = /curl -s (\S+)faults -H/.exec(demo.output())![1]!;
  graceId = /picture cannot be read \(403\), until cleared:\n.*\n.*"contactId":"([^"]+)"/.exec(demo.output())![1]!;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container: no sandbox; and nothing that talks to Google's services.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps'],
  });
  page = await browser.newPage();
  page.on('request', (request) => {
    requested.push(request.url());
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/graphql') graphqlRequests.push(request.postData() ?? '');
  });
  page.on('console', (message) => consoleMessages.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => consoleMessages.push(`pageerror: ${error.message}`));
  await page.goto(pageUrl);
  await page.getByRole('heading', { name: 'Contacts' }).waitFor();
  await rows().first().waitFor();
  consoleAtLoad = [...consoleMessages];
});

afterEach(async () => {
  await fetch(`${faultApi}faults`, { method: 'DELETE' });
});

afterAll(async () => {
  await browser?.close();
  demo?.kill('SIGINT');
  await demo?.exited;
});

const rows = () => page.getByRole('list', { name: 'Contacts' }).getByRole('listitem');
/** The row of the contact with this name. */
const row = (name: string) => rows().filter({ has: page.getByText(name, { exact: true }) });

/** Picks a file in a row's input, as a person would, and waits until the upload is over. */
async function pick(name: string, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
  await row(name).locator('input[type=file]').setInputFiles(file);
  await row(name).locator('input[type=file]:not([disabled])').waitFor();
}

/** Queues a fault through the simulator's fault API, as the demo's printed curls do. */
async function fail(fault: Record<string, unknown>): Promise<void> {
  const answer = await fetch(`${faultApi}faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });
  expect(answer.status).toBe(201);
}

/** Loads the page anew (a new cache), and waits for the list or the list's alert. */
async function reload(): Promise<void> {
  await page.reload();
  await page.locator('li, [role=alert]').first().waitFor();
}

let callers = 0;

/**
 * Loads the page anew as a caller the gateway has not seen (the page's `#token=`): the gateway
 * keeps each caller's pictures for `PHOTO_CACHE_TTL_S` and pages of its contact list for
 * `CONTACT_LIST_CACHE_TTL_S`, so a fault set for a picture or the list one caller has read is met
 * by a new caller's reads, not by a reload.
 */
async function asNewCaller(): Promise<void> {
  await page.goto(`${pageUrl.split('#')[0]}#token=browser-caller-${++callers}`);
  await reload();
}

/** A counter of the demo gateway's metrics, summed over the series whose labels contain `labels`. */
async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(new URL('/metrics', pageUrl))).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** What the page's code below touches of the DOM (this project's types are Node's, not the browser's). */
interface PageImage {
  naturalWidth: number;
  naturalHeight: number;
  src: string;
  decode(): Promise<void>;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { drawImage(image: PageImage, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

/** The row's thumbnail as the page shows it: its natural size, and the colour at (x, y) of its pixels. */
async function thumbnail(name: string, points: Array<[number, number]>): Promise<{ width: number; height: number; colours: number[][]; src: string }> {
  const image = row(name).locator('img');
  await image.waitFor();
  // Runs in the page: drawn on a canvas, read back pixel by pixel.
  return image.evaluate(async (element, at: Array<[number, number]>) => {
    const img = element as unknown as PageImage;
    await img.decode();
    const canvas = (globalThis as unknown as { document: { createElement(tag: 'canvas'): PageCanvas } }).document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    const colours = at.map(([x, y]) => Array.from(context.getImageData(Math.round(x * img.naturalWidth), Math.round(y * img.naturalHeight), 1, 1).data.slice(0, 3)));
    return { width: img.naturalWidth, height: img.naturalHeight, colours, src: img.src };
  }, points);
}

const isRed = ([r, g, b]: number[]) => r! > 180 && g! < 80 && b! < 80;
const isBlue = ([r, g, b]: number[]) => b! > 180 && r! < 80 && g! < 80;

describe('the example page in Chromium', () => {
  it('lists the seeded contacts, a page of 20 in name order from one request, with their pictures and, without one, initials', async () => {
    expect(await rows().count()).toBe(20);
    expect(graphqlRequests).toHaveLength(1);
    expect(graphqlRequests[0]).toContain('ContactList');
    expect(await rows().first().textContent()).toContain('Ada Lovelace');
    expect(await row('Ada Lovelace').getByRole('img', { name: 'Ada Lovelace has no picture', exact: true }).textContent()).toBe('AL');
    expect(await row('Ada Lovelace').locator('img').count()).toBe(0);
    const grace = await thumbnail('Grace Hopper', [[0.5, 0.5]]);
    expect([grace.width, grace.height]).toEqual([48, 48]);
    expect(await page.getByRole('img', { name: /has no picture$/ }).count()).toBeGreaterThan(3);
    expect(await page.locator('li img').count()).toBeGreaterThan(10);
  });

  it('loads the pictures again on a second visit from the browser\'s cache, with no image bytes over the network and no Graph call at all', async () => {
    // A browser of its own (an empty HTTP cache), and a caller of its own (an empty photo cache).
    const context = await browser.newContext();
    const visitor = await context.newPage();
    const cdp = await context.newCDPSession(visitor);
    await cdp.send('Network.enable');
    const photoRequests = new Set<string>();
    let networkBytes = 0;
    let photosFromNetwork = 0;
    cdp.on('Network.requestWillBeSent', (event: { requestId: string; request: { url: string } }) => {
      if (new URL(event.request.url).pathname.startsWith('/photos/')) photoRequests.add(event.requestId);
    });
    cdp.on('Network.loadingFinished', (event: { requestId: string; encodedDataLength: number }) => {
      if (!photoRequests.has(event.requestId) || event.encodedDataLength === 0) return;
      photosFromNetwork++;
      networkBytes += event.encodedDataLength;
    });
    const pictures = visitor.locator('li img');
    const visit = async (): Promise<void> => {
      await visitor.goto(`${pageUrl.split('#')[0]}#token=browser-second-visit`);
      await visitor.getByRole('list', { name: 'Contacts' }).getByRole('listitem').first().waitFor();
      await visitor.waitForLoadState('networkidle');
    };
    try {
      await visit();
      const shown = await pictures.count();
      expect(shown).toBeGreaterThan(10);
      expect(photosFromNetwork).toBe(shown);
      photosFromNetwork = 0;
      networkBytes = 0;
      const graphCalls = { all: await metric('graph_requests_total'), batches: await metric('graph_requests_total', 'method="POST"') };

      await visitor.goto('about:blank');
      await visit();

      expect(await pictures.count()).toBe(shown);
      expect(await pictures.evaluateAll((images) => images.every((image) => (image as unknown as PageImage).naturalWidth === 48))).toBe(true);
      expect([photosFromNetwork, networkBytes]).toEqual([0, 0]);
      // Neither the contact list (kept per caller, CONTACT_LIST_CACHE_TTL_S) nor any picture is read from Graph again.
      expect((await metric('graph_requests_total')) - graphCalls.all).toBe(0);
      expect((await metric('graph_requests_total', 'method="POST"')) - graphCalls.batches).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('wrote nothing to the console while loading (the favicon included)', () => {
    expect(consoleAtLoad).toEqual([]);
  });

  it("names each contact's file input for the contact (\"Change Ada Lovelace's picture\")", async () => {
    const names = await rows().locator('.contact-name').allTextContents();
    expect(names).toHaveLength(20);
    for (const name of names) {
      expect(await row(name).getByLabel(`Change ${name}'s picture`, { exact: true }).count()).toBe(1);
    }
    expect(await page.getByLabel('Change picture', { exact: true }).count()).toBe(0);
  });

  it('loads the next page with "Show more" in one request, after the first, until there is no more', async () => {
    const before = graphqlRequests.length;

    await page.getByRole('button', { name: 'Show more' }).click();
    await rows().nth(20).waitFor();

    expect(graphqlRequests.length - before).toBe(1);
    expect(await rows().count()).toBe(36);
    expect(await rows().first().textContent()).toContain('Ada Lovelace');
    expect(await page.getByRole('button', { name: 'Show more' }).count()).toBe(0);
  });

  it("shows one contact's unreadable picture as a marked placeholder saying why, the others keeping theirs, and its Retry shows the picture once the fault is cleared", async () => {
    await fail({ contactId: graceId, status: 403, times: 'always' });
    await asNewCaller();

    const grace = row('Grace Hopper');
    await grace.getByRole('img', { name: "Grace Hopper's picture could not be read", exact: true }).waitFor();
    expect(await grace.textContent()).toContain('The picture could not be read: Microsoft Graph refused access (FORBIDDEN).');
    expect(await grace.locator('img').count()).toBe(0);
    expect(await row('Frances Allen').locator('img').count()).toBe(1);
    expect(await page.locator('li img').count()).toBeGreaterThan(10);
    expect(await row('Ada Lovelace').getByRole('img', { name: 'Ada Lovelace has no picture' }).count()).toBe(1);
    expect(await page.locator('[data-photo=unreadable]').count()).toBe(1);

    await fetch(`${faultApi}faults`, { method: 'DELETE' });
    await grace.getByRole('button', { name: "Retry reading Grace Hopper's picture" }).click();

    const shown = await thumbnail('Grace Hopper', [[0.5, 0.5]]);
    expect([shown.width, shown.height]).toEqual([48, 48]);
    expect(await page.locator('[data-photo=unreadable]').count()).toBe(0);
  });

  it('marks the unreadable pictures of a page "Show more" added, the pages held keeping theirs', async () => {
    await asNewCaller();
    const held = await page.locator('li img').count();
    await fail({ value: true, status: 403, times: 'always' });

    await page.getByRole('button', { name: 'Show more' }).click();
    await rows().nth(20).waitFor();

    expect(await page.locator('li img').count()).toBe(held);
    expect(await row('Margaret Hamilton').getByRole('img', { name: "Margaret Hamilton's picture could not be read", exact: true }).count()).toBe(1);
    expect(await row('Margaret Hamilton').textContent()).toContain('(FORBIDDEN)');
    expect(await page.locator('[data-photo=unreadable]').count()).toBe(16);
  });

  it('shows a failed list as one alert saying why, whose Retry lists the contacts once the fault is cleared', async () => {
    await fail({ list: true, status: 500, times: 'always' });
    // A caller who has listed the contacts is answered from its cached page for a minute.
    await asNewCaller();

    const alert = page.getByRole('alert');
    expect(await alert.count()).toBe(1);
    expect(await alert.textContent()).toMatch(/^The contacts could not be loaded: .+\(BAD_GATEWAY\)\.Retry$/);
    expect(await rows().count()).toBe(0);

    await fetch(`${faultApi}faults`, { method: 'DELETE' });
    await alert.getByRole('button', { name: 'Retry' }).click();

    await rows().first().waitFor();
    expect(await rows().count()).toBe(20);
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('uploads a HEIC a phone gives with an empty type, shows its 48 px thumbnail, and announces the upload under way and done in the live region', async () => {
    await reload();
    // What the live region said, each text it held, recorded in the page.
    await page.evaluate(() => {
      const scope = globalThis as unknown as { announced: string[]; document: { querySelector(s: string): { textContent: string } }; MutationObserver: new (callback: () => void) => { observe(target: unknown, options: object): void } };
      const region = scope.document.querySelector('[aria-live=polite]');
      scope.announced = [];
      new scope.MutationObserver(() => scope.announced.push(region.textContent)).observe(region, { childList: true, characterData: true, subtree: true });
    });

    await pick('Ada Lovelace', { name: 'IMG_0001.HEIC', mimeType: '', buffer: HEIC });

    // The fixture is 64 x 48, red on the left half, blue on the right.
    const shown = await thumbnail('Ada Lovelace', [
      [0.2, 0.5],
      [0.8, 0.5],
    ]);
    expect([shown.width, shown.height]).toEqual([48, 36]);
    expect(isRed(shown.colours[0]!)).toBe(true);
    expect(isBlue(shown.colours[1]!)).toBe(true);
    // A URL on the gateway, which names the picture's bytes: the browser may keep them.
    expect(new URL(shown.src).pathname).toMatch(/^\/photos\/[\w-]+\/[\w-]+\.jpg$/);
    await page.getByText("Ada Lovelace's picture is changed.").waitFor();
    const announced = await page.evaluate(() => (globalThis as unknown as { announced: string[] }).announced);
    expect(announced).toEqual(["Uploading Ada Lovelace's picture…", "Ada Lovelace's picture is changed."]);
    expect(await page.locator('[aria-live]').count()).toBe(1);
  });

  it('turns a JPEG with EXIF orientation upright, and keeps its GPS position out of the picture', async () => {
    // Stored 120 x 80, red on top; orientation 6 means "rotate 90° clockwise to view": upright it
    // is 80 x 120, red on the right.
    const half = (colour: string) => sharp({ create: { width: 120, height: 40, channels: 3, background: colour } }).png().toBuffer();
    const stored = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#000' } })
      .composite([
        { input: await half('#ff0000'), top: 0, left: 0 },
        { input: await half('#0000ff'), top: 40, left: 0 },
      ])
      .jpeg()
      .withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 28/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' } })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(stored).metadata()).orientation).toBe(6);
    expect((await sharp(stored).metadata()).exif).toBeDefined();

    await pick('Adele Goldberg', { name: 'portrait.jpg', mimeType: 'image/jpeg', buffer: stored });

    const shown = await thumbnail('Adele Goldberg', [
      [0.2, 0.5],
      [0.8, 0.5],
    ]);
    expect([shown.width, shown.height]).toEqual([32, 48]);
    expect(isBlue(shown.colours[0]!)).toBe(true);
    expect(isRed(shown.colours[1]!)).toBe(true);
    const bytes = Buffer.from(await (await fetch(shown.src)).arrayBuffer());
    expect((await sharp(bytes).metadata()).exif).toBeUndefined();
  });

  it('says in a sentence that a text file is not a picture, and keeps the contact as it was', async () => {
    await pick('Anita Borg', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });

    await expect(row('Anita Borg').getByRole('alert').textContent()).resolves.toBe('That file is not a picture we can use. Choose a JPEG, PNG, GIF, WebP, AVIF or HEIC photo.');
    expect(await row('Anita Borg').locator('img').count()).toBe(0);
    expect(await row('Anita Borg').getByRole('img', { name: 'Anita Borg has no picture' }).count()).toBe(1);
  });

  it('says in a sentence that a picture over the upload limit is too large', async () => {
    // 21 MB: over the demo's 20 MiB PHOTO_MAX_UPLOAD_BYTES, refused from its headers (413).
    const huge = Buffer.alloc(21 * 1024 * 1024, 0x61);
    huge.set([0xff, 0xd8, 0xff, 0xe0]);

    await pick('Anita Borg', { name: 'huge.jpg', mimeType: 'image/jpeg', buffer: huge });

    // The row still shows the text file's sentence until this answer replaces it: wait for this one.
    await row('Anita Borg').getByRole('alert').filter({ hasText: 'That picture is too large. Choose one under 20 MB.' }).waitFor();
    expect(await row('Anita Borg').getByRole('alert').count()).toBe(1);
  });

  it('runs under the gateway’s Content-Security-Policy without a violation, and asks for no favicon', () => {
    expect(consoleMessages.filter((message) => /Content Security Policy|pageerror/i.test(message))).toEqual([]);
    expect(requested.filter((url) => url.includes('favicon'))).toEqual([]);
  });

  it('made no request to any origin but its own', () => {
    const origin = new URL(pageUrl).origin;
    const elsewhere = requested.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);

    expect(requested.length).toBeGreaterThan(3);
    expect(elsewhere).toEqual([]);
  });
});
