import { describe, expect, it } from '@jest/globals';
import { detectImageFormat } from '../../src/photos/image-format.js';

/** An ISO-BMFF `ftyp` box: its size, "ftyp", the major brand, a minor version, then the compatible brands. */
function ftyp(major: string, compatible: string[], claimedSize?: number): Buffer {
  const box = Buffer.concat([Buffer.alloc(4), Buffer.from(`ftyp${major}`, 'latin1'), Buffer.alloc(4), Buffer.from(compatible.join(''), 'latin1')]);
  box.writeUInt32BE(claimedSize ?? box.length, 0);
  return box;
}

describe('detectImageFormat', () => {
  it('reads HEIC and AVIF from their ftyp brands', () => {
    expect(detectImageFormat(ftyp('heic', ['mif1', 'heic']))).toBe('heic');
    expect(detectImageFormat(ftyp('mif1', ['avif', 'miaf']))).toBe('avif');
    expect(detectImageFormat(ftyp('isom', ['mp41']))).toBeUndefined();
  });

  it('reads at most 16 compatible brands, whatever size the box claims', () => {
    const junk = Array.from({ length: 16 }, () => 'junk');
    expect(detectImageFormat(ftyp('isom', [...junk.slice(1), 'avif']))).toBe('avif');
    // The 17th brand is past what any real file writes: not read.
    expect(detectImageFormat(ftyp('isom', [...junk, 'avif']))).toBeUndefined();
  });

  it('does not walk a 19 MB box that claims to be all brands', () => {
    const crafted = Buffer.alloc(19 * 1024 * 1024, 0x61);
    crafted.writeUInt32BE(crafted.length, 0);
    crafted.write('ftypisom', 4, 'latin1');
    crafted.write('avif', crafted.length - 4, 'latin1');

    expect(detectImageFormat(crafted)).toBeUndefined();
  });
});
