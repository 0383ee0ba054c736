import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { runCompiled, type CompiledProcess } from '../support/process.js';

/**
 * The example page (examples/web) in Debian's Chromium, headless, against `npm run demo`'s
 * simulator and gateway: pictures go in through the page's file input, as a person would pick
 * them, and the thumbnails the page then shows are read back from its pixels.
 */

const CHROMIUM = '/usr/bin/chromium';
const HEIC = readFileSync(new URL('../fixtures/images/red-blue-64x48.heic', import.meta.url));

let demo: CompiledProcess;
let browser: Browser;
let page: Page;
let pageUrl: string;
const requested: string[] = [];
/** What the browser wrote to the page's console, as `type: text`. */
const consoleMessages: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}. npm run test:browser needs Debian's chromium: apt-get install chromium, then run it again.`);
  }
  demo = runCompiled('demo.js', { PORT: '0' });
  await demo.printed('Press Ctrl+C to stop.');
  pageUrl = /Open the example page: (\S+)/.exec(demo.output())![1]!;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container: no sandbox; and nothing that talks to Google's services.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps'],
  });
  page = await browser.newPage();
  page.on('request', (request) => requested.push(request.url()));
  page.on('console', (message) => consoleMessages.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => consoleMessages.push(`pageerror: ${error.message}`));
  await page.goto(pageUrl);
  await page.getByRole('heading', { name: 'Contacts' }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  demo?.kill('SIGINT');
  await demo?.exited;
});

const row = (index: number) => page.locator('li').nth(index);

/** Picks a file in a row's input, as a person would, and waits until the upload is over. */
async function pick(index: number, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
  await row(index).locator('input[type=file]').setInputFiles(file);
  await row(index).locator('input[type=file]:not([disabled])').waitFor();
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
async function thumbnail(index: number, points: Array<[number, number]>): Promise<{ width: number; height: number; colours: number[][]; src: string }> {
  const image = row(index).locator('img');
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
  it('lists the contacts from one query, with no picture yet', async () => {
    await expect(page.locator('li').count()).resolves.toBe(3);
    expect(await row(0).getByLabel('Ada Lovelace has no picture').count()).toBe(1);
    expect(await row(0).locator('img').count()).toBe(0);
  });

  it('uploads a HEIC a phone gives with an empty type, and shows its 48 px thumbnail', async () => {
    await pick(0, { name: 'IMG_0001.HEIC', mimeType: '', buffer: HEIC });

    // The fixture is 64 x 48, red on the left half, blue on the right.
    const shown = await thumbnail(0, [
      [0.2, 0.5],
      [0.8, 0.5],
    ]);
    expect([shown.width, shown.height]).toEqual([48, 36]);
    expect(isRed(shown.colours[0]!)).toBe(true);
    expect(isBlue(shown.colours[1]!)).toBe(true);
    expect(shown.src).toMatch(/^data:image\/jpeg;base64,/);
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

    await pick(1, { name: 'portrait.jpg', mimeType: 'image/jpeg', buffer: stored });

    const shown = await thumbnail(1, [
      [0.2, 0.5],
      [0.8, 0.5],
    ]);
    expect([shown.width, shown.height]).toEqual([32, 48]);
    expect(isBlue(shown.colours[0]!)).toBe(true);
    expect(isRed(shown.colours[1]!)).toBe(true);
    const bytes = Buffer.from(shown.src.replace(/^data:image\/jpeg;base64,/, ''), 'base64');
    expect((await sharp(bytes).metadata()).exif).toBeUndefined();
  });

  it('says in a sentence that a text file is not a picture, and keeps the contact as it was', async () => {
    await pick(2, { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });

    await expect(row(2).getByRole('alert').textContent()).resolves.toBe('That file is not a picture we can use. Choose a JPEG, PNG, GIF, WebP, AVIF or HEIC photo.');
    expect(await row(2).locator('img').count()).toBe(0);
  });

  it('says in a sentence that a picture over the upload limit is too large', async () => {
    // 21 MB: over the demo's 20 MiB PHOTO_MAX_UPLOAD_BYTES, refused from its headers (413).
    const huge = Buffer.alloc(21 * 1024 * 1024, 0x61);
    huge.set([0xff, 0xd8, 0xff, 0xe0]);

    await pick(2, { name: 'huge.jpg', mimeType: 'image/jpeg', buffer: huge });

    // The row still shows the text file's sentence until this answer replaces it: wait for this one.
    await row(2).getByRole('alert').filter({ hasText: 'That picture is too large. Choose one under 20 MB.' }).waitFor();
    expect(await row(2).getByRole('alert').count()).toBe(1);
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
