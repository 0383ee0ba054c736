import { boolean, integer, raw, type Env } from './env-values.js';
import { isProduction } from './server-config.js';
import { loadTrustedDocuments, type TrustedDocuments } from './trusted-documents.js';

/** GraphQL and Apollo Server: what callers may see and send, the operation limits, Federation, persisted queries. */
export interface GraphQLSettings {
  introspection: boolean;
  /** Stack traces in error answers (`GRAPHQL_DEBUG`). */
  debug: boolean;
  /** Contacts whose photo one operation may read (`PHOTO_LIST_MAX`): `contactPhotos` ids and `contactPhoto` fields together. */
  photoListMax: number;
  /**
   * Bytes of full-size `data:` URLs one operation may answer (`PHOTO_DATAURL_BUDGET_BYTES`): past
   * them, its further full-size `dataUrl` fields are refused (BAD_USER_INPUT), not read.
   */
  photoDataUrlBudgetBytes: number;
  /** Serve the schema as an Apollo Federation 2 subgraph (`FEDERATION`). */
  federation: boolean;
  /**
   * Federation's `{ _service { sdl } }` answers without a token (`FEDERATION_SDL_PUBLIC`; by
   * default only where introspection is on): it is the whole schema, which production keeps to callers.
   */
  federationSdlPublic: boolean;
  /** Automatic persisted queries: how long an entry lives (`APQ_TTL_S`), and the largest document kept (`APQ_MAX_BYTES`). */
  persistedQueries: { ttlSeconds: number; maxBytes: number };
  /** From the manifest `TRUSTED_DOCUMENTS` names: when set, only its documents are accepted. */
  trustedDocuments: TrustedDocuments | undefined;
}

export function graphQLSettings(env: Env): GraphQLSettings {
  const introspection = boolean(env, 'GRAPHQL_INTROSPECTION', !isProduction(env));
  return {
    introspection,
    debug: boolean(env, 'GRAPHQL_DEBUG', false),
    photoListMax: integer(env, 'PHOTO_LIST_MAX', 100, 1, 1000),
    // A byte of data: URL answered took 9 to 11 bytes of peak RSS, measured (the picture, the batch
    // answer it came in, its text and its decoding, the URL, the JSON answer and its copies while
    // written: bench/data-url-memory.ts): 8 MiB keeps a request's pictures near 64 MiB. At least
    // 6 MiB: one picture at Graph's 4 MB cap is a 5.6 MB data: URL.
    photoDataUrlBudgetBytes: integer(env, 'PHOTO_DATAURL_BUDGET_BYTES', 8 * 1024 * 1024, 6 * 1024 * 1024, 256 * 1024 * 1024),
    federation: boolean(env, 'FEDERATION', false),
    federationSdlPublic: boolean(env, 'FEDERATION_SDL_PUBLIC', introspection),
    persistedQueries: {
      ttlSeconds: integer(env, 'APQ_TTL_S', 3600, 1, 7 * 24 * 3600),
      maxBytes: integer(env, 'APQ_MAX_BYTES', 16 * 1024, 1, 100 * 1024),
    },
    trustedDocuments: trustedDocuments(env),
  };
}

function trustedDocuments(env: Env): TrustedDocuments | undefined {
  const path = raw(env, 'TRUSTED_DOCUMENTS');
  return path === undefined ? undefined : loadTrustedDocuments(path);
}
