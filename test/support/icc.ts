/**
 * A matrix/TRC ICC profile (version 2, display class), made in the test: the smallest profile a
 * colour-managed decoder honours. sharp ships sRGB, Display P3 and CMYK only; a camera's Adobe RGB
 * (1998) has to be made.
 */
export interface MatrixProfile {
  description: string;
  /** The primaries' XYZ, adapted to D50 (the profile connection space), as in the published profile. */
  red: [number, number, number];
  green: [number, number, number];
  blue: [number, number, number];
  /** One gamma for the three channels. */
  gamma: number;
}

/** Adobe RGB (1998): colorants as Adobe's own profile has them, gamma 563/256. */
export const ADOBE_RGB: MatrixProfile = {
  description: 'Adobe RGB (1998) compatible, made in the test',
  red: [0.6097, 0.3111, 0.0195],
  green: [0.2053, 0.6257, 0.0609],
  blue: [0.1492, 0.0632, 0.7446],
  gamma: 563 / 256,
};

const D50: [number, number, number] = [0.9642, 1.0, 0.8249];

function s15Fixed16(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(Math.round(value * 65536));
  return bytes;
}

function xyzTag(xyz: [number, number, number]): Buffer {
  return Buffer.concat([Buffer.from('XYZ \0\0\0\0', 'latin1'), ...xyz.map(s15Fixed16)]);
}

function curveTag(gamma: number): Buffer {
  const bytes = Buffer.from('curv\0\0\0\0\0\0\0\x01\0\0', 'latin1');
  bytes.writeUInt16BE(Math.round(gamma * 256), 12);
  return bytes;
}

/** textDescriptionType (ICC v2): an ASCII description, then empty Unicode and ScriptCode parts. */
function descriptionTag(text: string): Buffer {
  const ascii = Buffer.from(`${text}\0`, 'latin1');
  const count = Buffer.alloc(4);
  count.writeUInt32BE(ascii.length);
  return Buffer.concat([Buffer.from('desc\0\0\0\0', 'latin1'), count, ascii, Buffer.alloc(4 + 4 + 2 + 1 + 67)]);
}

function textTag(text: string): Buffer {
  return Buffer.concat([Buffer.from('text\0\0\0\0', 'latin1'), Buffer.from(`${text}\0`, 'latin1')]);
}

/** The profile's bytes, ready for a file that sharp's `withIccProfile(path)` embeds. */
export function matrixProfile(profile: MatrixProfile): Buffer {
  const tags: Array<[string, Buffer]> = [
    ['desc', descriptionTag(profile.description)],
    ['cprt', textTag('No copyright: made in a test')],
    ['wtpt', xyzTag(D50)],
    ['rXYZ', xyzTag(profile.red)],
    ['gXYZ', xyzTag(profile.green)],
    ['bXYZ', xyzTag(profile.blue)],
    ['rTRC', curveTag(profile.gamma)],
    ['gTRC', curveTag(profile.gamma)],
    ['bTRC', curveTag(profile.gamma)],
  ];
  const table = Buffer.alloc(4 + 12 * tags.length);
  table.writeUInt32BE(tags.length);
  const bodies: Buffer[] = [];
  let offset = 128 + table.length;
  tags.forEach(([signature, body], index) => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    table.write(signature, 4 + index * 12, 'latin1');
    table.writeUInt32BE(offset, 8 + index * 12);
    table.writeUInt32BE(body.length, 12 + index * 12);
    bodies.push(padded);
    offset += padded.length;
  });
  const header = Buffer.alloc(128);
  header.writeUInt32BE(offset, 0);
  header.writeUInt32BE(0x02100000, 8); // version 2.1
  header.write('mntrRGB XYZ ', 12, 'latin1');
  header.writeUInt16BE(2026, 24);
  header.writeUInt16BE(1, 26);
  header.writeUInt16BE(1, 28);
  header.write('acsp', 36, 'latin1');
  D50.map(s15Fixed16).forEach((value, index) => value.copy(header, 68 + index * 4));
  return Buffer.concat([header, table, ...bodies]);
}
