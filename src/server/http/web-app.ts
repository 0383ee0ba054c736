import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

/**
 * What the page may load, as the browser enforces it: its own scripts, styles and API (the
 * gateway's origin), pictures from there or inline (`data:`/`blob:` thumbnails and previews), no
 * plugins, no `<base>` or form targets elsewhere, and no framing (clickjacking).
 */
export const WEB_APP_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': WEB_APP_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** Source maps give the page's whole source away; the build makes none, and none is served if one is left in the folder. */
const SOURCE_MAP = /\.map$/i;

export interface WebAppOptions {
  /** The built page (`WEB_APP_DIR`). */
  root: string;
}

/**
 * A built web page at `/app/` on the gateway's own origin (the demo's example page): its files
 * only, never a dotfile (`.env`, `.git/`) or a source map, every answer with the security
 * headers above. Encapsulated, so the headers and the hook stay on `/app/`.
 */
export const webAppPlugin: FastifyPluginAsync<WebAppOptions> = async (app: FastifyInstance, { root }) => {
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });
  await app.register(fastifyStatic, {
    root,
    prefix: '/app/',
    dotfiles: 'deny',
    allowedPath: (pathName) => !SOURCE_MAP.test(pathName),
  });
  app.get('/app', (_request, reply) => reply.redirect('/app/'));
};
