import type { FastifyPluginAsync } from 'fastify';
import { MEDIA_TYPES } from '../../photos/image-format.js';
import { PHOTO_URL_PREFIX, type PhotoUrls } from '../../photo-cache/photo-urls.js';

export interface PhotoRouteOptions {
  urls: PhotoUrls;
}

/**
 * `GET /photos/<tag>/<hash>.<ext>?exp=&sig=`: the picture a `ProfilePhoto.url` names, from the
 * photo cache (the replicas' shared one with Redis), never from Graph. The browser keeps it until
 * the URL expires (`private, immutable`: it is a caller's, and its URL changes with its bytes).
 * A bad or expired signature, and bytes no longer kept, are the same 404: the page asks the query
 * again. CORS is the GraphQL endpoint's (registered on the root).
 */
export const photoRoutePlugin: FastifyPluginAsync<PhotoRouteOptions> = async (app, { urls }) => {
  app.get<{ Params: { tag: string; file: string }; Querystring: { exp?: string; sig?: string } }>(`${PHOTO_URL_PREFIX}/:tag/:file`, async (request, reply) => {
    const { exp, sig } = request.query;
    const picture = await urls.picture(`${request.params.tag}/${request.params.file}`, typeof exp === 'string' ? exp : undefined, typeof sig === 'string' ? sig : undefined);
    void reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    if (picture === undefined) return reply.code(404).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('Not found');
    const etag = `"${picture.hash}"`;
    void reply
      .header('cache-control', `private, max-age=${Math.max(0, Math.floor((picture.expiresAt - Date.now()) / 1000))}, immutable`)
      .header('etag', etag);
    if (matches(request.headers['if-none-match'], etag)) return reply.code(304).send();
    return reply.type(MEDIA_TYPES[picture.format]).send(picture.bytes);
  });
};

/** Whether `If-None-Match` names the ETag (a list, weak forms and `*` included, as RFC 9110 has it). */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}
