/**
 * The contacts `npm run demo` seeds (and so the example page and its browser test list): a few
 * dozen people with real-looking names and addresses, two in three with a picture, so that a
 * contacts screen has pictures, initials and a second page to show.
 */
import type { SimulatedContact } from './contacts.js';

/** The mailbox the demo seeds, the one the example page lists (examples/web/src/settings.ts). */
export const DEMO_INVITATION_ID = 'invitation-1';

/** [given name, surname, has a picture]. Ada Lovelace, first in `displayName` order, has none. */
const PEOPLE: ReadonlyArray<[string, string, boolean]> = [
  ['Ada', 'Lovelace', false],
  ['Grace', 'Hopper', true],
  ['Margaret', 'Hamilton', true],
  ['Alan', 'Turing', true],
  ['Katherine', 'Johnson', false],
  ['Dorothy', 'Vaughan', true],
  ['Mary', 'Jackson', true],
  ['Edsger', 'Dijkstra', false],
  ['Barbara', 'Liskov', true],
  ['Frances', 'Allen', true],
  ['Donald', 'Knuth', false],
  ['John', 'von Neumann', true],
  ['Claude', 'Shannon', true],
  ['Hedy', 'Lamarr', false],
  ['Tim', 'Berners-Lee', true],
  ['Radia', 'Perlman', true],
  ['Adele', 'Goldberg', false],
  ['Jean', 'Bartik', true],
  ['Betty', 'Holberton', true],
  ['Kathleen', 'Booth', false],
  ['Sophie', 'Wilson', true],
  ['Karen', 'Spärck Jones', true],
  ['Leslie', 'Lamport', false],
  ['Ken', 'Thompson', true],
  ['Dennis', 'Ritchie', true],
  ['Anita', 'Borg', false],
  ['Shafi', 'Goldwasser', true],
  ['Whitfield', 'Diffie', true],
  ['Tony', 'Hoare', false],
  ['Niklaus', 'Wirth', true],
  ['John', 'McCarthy', true],
  ['Vint', 'Cerf', false],
  ['Evelyn', 'Boyd Granville', true],
  ['Annie', 'Easley', true],
  ['Lynn', 'Conway', false],
  ['Marvin', 'Minsky', true],
];

/**
 * The demo's contacts, each with an Outlook-like id (case-sensitive, with `=`), one address, and,
 * for two in three, a 240 px JPEG drawn here (a head and shoulders on a colour of the name's own).
 * sharp is loaded here, not with the simulator, as an upload loads it.
 */
export async function demoContacts(): Promise<SimulatedContact[]> {
  const { default: sharp } = await import('sharp');
  return Promise.all(
    PEOPLE.map(async ([givenName, surname, withPicture], index) => {
      const displayName = `${givenName} ${surname}`;
      const address = `${givenName}.${surname}`.toLowerCase().replace(/[^a-z.]+/g, '') + '@example.com';
      const contact: SimulatedContact = {
        id: `AAMkAGI2THVSAA${String(index).padStart(2, '0')}Dm=`,
        displayName,
        givenName,
        surname,
        emailAddresses: [{ name: displayName, address }],
      };
      if (withPicture) contact.picture = await sharp(Buffer.from(portrait(index))).jpeg({ quality: 80 }).toBuffer();
      return contact;
    }),
  );
}

/** A 240 px head-and-shoulders silhouette (SVG) on a hue of its own. */
function portrait(index: number): string {
  const hue = (index * 47) % 360;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240">
  <rect width="240" height="240" fill="hsl(${hue}, 55%, 62%)"/>
  <circle cx="120" cy="96" r="46" fill="hsl(${hue}, 40%, 92%)"/>
  <ellipse cx="120" cy="236" rx="86" ry="76" fill="hsl(${hue}, 40%, 92%)"/>
</svg>`;
}
