import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

/**
 * The documents a deployment accepts, from a persisted-documents manifest (`hash -> document`,
 * as codegen's client preset writes it: keys `sha256:<hex>` or `<hex>`).
 */
export interface TrustedDocuments {
  /** By SHA-256 (hex) of the document's text. */
  readonly byHash: ReadonlyMap<string, string>;
  /** The documents' exact texts. */
  readonly texts: ReadonlySet<string>;
}

/**
 * Reads and checks a manifest: every key must be the SHA-256 of its document, so that a hash
 * sent by a client can only ever stand for the text it was made from.
 *
 * @throws ConfigError naming TRUSTED_DOCUMENTS when the file cannot be used.
 */
export function loadTrustedDocuments(path: string): TrustedDocuments {
  const variable = 'TRUSTED_DOCUMENTS';
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(variable, `must name a readable JSON manifest (${(error as Error).message})`, path);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new ConfigError(variable, 'must name a JSON object of hash -> document', path);
  }
  const byHash = new Map<string, string>();
  for (const [key, document] of Object.entries(manifest)) {
    const hash = key.replace(/^sha256:/, '');
    if (typeof document !== 'string' || createHash('sha256').update(document).digest('hex') !== hash) {
      throw new ConfigError(variable, `has an entry whose key is not the SHA-256 of its document (${key})`, path);
    }
    byHash.set(hash, document);
  }
  return { byHash, texts: new Set(byHash.values()) };
}
