import { crc32, deflateSync } from 'node:zlib';

/** Where a PNG's IHDR chunk ends: signature (8) + length, type, 13 bytes of data, CRC. */
const IHDR_END = 8 + 4 + 4 + 13 + 4;

/**
 * `png` with `icc` embedded as its colour profile (an `iCCP` chunk right after IHDR, where the
 * PNG specification puts it).
 *
 * Why: the HEIC decoder hands back bare RGBA in the file's own colour space (an iPhone's is
 * Display P3), and sharp takes raw pixels as sRGB with no way to name their profile. Wrapped in
 * a PNG that carries the profile, they go through libvips' colour management like any other
 * tagged image. The wrapped image is the already downscaled one, so this costs a few ms.
 */
export function pngWithIccProfile(png: Buffer, icc: Buffer): Buffer {
  // Profile name (1 to 79 Latin-1 bytes), a NUL, compression method 0 (zlib), the compressed profile.
  const data = Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)]);
  const typeAndData = Buffer.concat([Buffer.from('iCCP', 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([png.subarray(0, IHDR_END), length, typeAndData, crc, png.subarray(IHDR_END)]);
}
