import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

/** A solid colour, as sharp takes it. */
export type Colour = { r: number; g: number; b: number; alpha?: number };

export const RED = { r: 220, g: 30, b: 30 };
export const BLUE = { r: 30, g: 30, b: 220 };

/**
 * An image made in the test: `width` x `height`, its left half `left` and its right half
 * `right`, so that orientation can be checked after processing.
 */
export async function twoColourImage(width: number, height: number, left: Colour = RED, right: Colour = BLUE): Promise<Sharp> {
  const half = Math.floor(width / 2);
  const leftHalf = await sharp({ create: { width: half, height, channels: 3, background: left } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: right } }).composite([{ input: leftHalf, left: 0, top: 0 }]);
}

/**
 * A JPEG of noise: it does not compress away, so cutting it short really truncates its image data
 * (and at quality 100, 1900 x 1500 pixels make a picture of about 3.8 MB, near Graph's 4 MB cap).
 */
export function noiseJpeg(width: number, height: number, quality = 80): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251;
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

/** The RGB of the pixel at (x, y) of an encoded image. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<{ r: number; g: number; b: number }> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return { r: data[offset]!, g: data[offset + 1]!, b: data[offset + 2]! };
}

/** Whether two colours are within `tolerance` of each other on every channel (JPEG moves them a little). */
export function near(actual: { r: number; g: number; b: number }, expected: Colour, tolerance = 24): boolean {
  return Math.abs(actual.r - expected.r) <= tolerance && Math.abs(actual.g - expected.g) <= tolerance && Math.abs(actual.b - expected.b) <= tolerance;
}

/**
 * A decompression bomb: a valid PNG header claiming `width` x `height` pixels, followed by almost
 * no data. Only a check of the header before decoding stops it cheaply.
 */
export function pngBomb(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
