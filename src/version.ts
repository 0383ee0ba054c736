import { readFileSync } from 'node:fs';

interface PackageJson {
  name: string;
  version: string;
}

// The path holds from `src/` (tests) and from `dist/` (the build) alike.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as PackageJson;

export const GATEWAY_NAME = pkg.name;
export const GATEWAY_VERSION = pkg.version;
/** Sent to Graph, so that Microsoft's logs name the gateway that called. */
export const USER_AGENT = `${GATEWAY_NAME}/${GATEWAY_VERSION}`;
