import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { ADOBE_RGB, matrixProfile } from '../support/icc.js';
import { pixelAt } from '../support/images.js';
import { UPLOAD_PHOTO, postUpload } from '../support/upload.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Colours survive the upload: whatever colour space the picture was taken in (an iPhone's
 * Display P3, a camera's Adobe RGB, a print shop's CMYK), Graph gets the same colour in sRGB,
 * untagged, as browsers and Outlook show an untagged image. Each image is one colour whose
 * correct sRGB value is known, written in another space with that space's profile.
 */

const TOKEN = 'colour-token';
const ids = { invitationId: 'inv-colour', contactId: 'contact-colour' };
/** The colour every picture here shows, in sRGB: a saturated red that P3 and Adobe RGB store differently. */
const TRUE_COLOUR = { r: 200, g: 80, b: 60 };
/** JPEG and the colour transforms' rounding move a channel by a unit or two; a lost profile moves it by 10 or more. */
const TOLERANCE = 3;

let stack: Stack;
let profileDir: string;
let adobeProfilePath: string;
beforeAll(async () => {
  stack = await startStack();
  profileDir = mkdtempSync(join(tmpdir(), 'icc-'));
  adobeProfilePath = join(profileDir, 'adobe-rgb.icc');
  writeFileSync(adobeProfilePath, matrixProfile(ADOBE_RGB));
});
afterAll(async () => {
  await stack.close();
  rmSync(profileDir, { recursive: true, force: true });
});
beforeEach(() => stack.simulator.reset());

const solid = () => sharp({ create: { width: 64, height: 64, channels: 3, background: TRUE_COLOUR } });

/** What the file itself holds at (8, 8), before any colour management: the values a profile-blind decoder shows. */
async function storedValues(image: Buffer): Promise<{ r: number; g: number; b: number }> {
  const { data } = await sharp(image).keepIccProfile().raw().toBuffer({ resolveWithObject: true });
  return { r: data[0]!, g: data[1]!, b: data[2]! };
}

function distance(a: { r: number; g: number; b: number }, b: { r: number; g: number; b: number }): number {
  return Math.max(Math.abs(a.r - b.r), Math.abs(a.g - b.g), Math.abs(a.b - b.b));
}

async function uploadedColour(image: Buffer): Promise<{ r: number; g: number; b: number }> {
  const result = await postUpload(stack.url, UPLOAD_PHOTO, ids, image, { token: TOKEN });
  expect(result.body.errors).toBeUndefined();
  const stored = stack.simulator.storedImage(TOKEN, ids.invitationId, ids.contactId)!;
  // No profile travels to Graph: the pixels are sRGB, which is what an untagged image means.
  expect((await sharp(stored).metadata()).icc).toBeUndefined();
  return pixelAt(stored, 32, 32);
}

describe('uploadContactPhoto converts colours to sRGB from the image’s own profile', () => {
  it.each([
    ['a Display P3 HEIC, as an iPhone takes it', async () => readFileSync(new URL('../fixtures/images/p3-200-80-60.heic', import.meta.url))],
    ['a Display P3 16-bit PNG', () => solid().withIccProfile('p3').toColourspace('rgb16').png().toBuffer()],
    ['a Display P3 JPEG', () => solid().withIccProfile('p3').jpeg({ quality: 95 }).toBuffer()],
    ['an Adobe RGB (1998) JPEG, as a camera writes it', () => solid().withIccProfile(adobeProfilePath).jpeg({ quality: 95 }).toBuffer()],
  ])('%s keeps its colour', async (_case, make) => {
    const image = await make();
    if (!image.subarray(4, 8).equals(Buffer.from('ftyp'))) {
      // The test means something only if the file's own values are not already the sRGB ones.
      expect(distance(await storedValues(image), TRUE_COLOUR)).toBeGreaterThan(8);
    }

    const colour = await uploadedColour(image);

    expect(distance(colour, TRUE_COLOUR)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('a CMYK JPEG comes out as its profile says, not as naive CMYK arithmetic', async () => {
    // A cyan written as press ink (CMYK) with the press profile. Its sRGB value is that profile's
    // conversion, made here by lcms through sharp; a decoder that ignored the profile would do
    // the arithmetic R = (255 - C) x (255 - K) / 255, and so on, and show another colour.
    const cmyk = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 0, g: 160, b: 225 } } })
      .withIccProfile('cmyk')
      .jpeg({ quality: 95 })
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const { data: ink } = await sharp(cmyk).keepIccProfile().raw().toBuffer({ resolveWithObject: true });
    const [c, m, y, k] = [ink[0]!, ink[1]!, ink[2]!, ink[3]!];
    const naive = { r: ((255 - c) * (255 - k)) / 255, g: ((255 - m) * (255 - k)) / 255, b: ((255 - y) * (255 - k)) / 255 };
    const reference = await pixelAt(await sharp(cmyk).toColourspace('srgb').png().toBuffer(), 32, 32);
    expect(distance(reference, naive)).toBeGreaterThan(20);

    const colour = await uploadedColour(cmyk);

    expect(distance(colour, reference)).toBeLessThanOrEqual(TOLERANCE);
  });
});
