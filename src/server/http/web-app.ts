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

/**
 * With sign-in, MSAL.js in the page reads the authority's discovery document and token endpoint
 * (`connect-src`), and renews silently in a hidden frame that goes to the authority and comes
 * back to the page's redirect bridge on its own origin (`frame-src`, and `frame-ancestors 'self'`
 * for that bridge). Nothing else is widened.
 */
export function signInContentSecurityPolicy(authorityHost: string): string {
  return WEB_APP_CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'") + `; connect-src 'self' ${authorityHost}; frame-src 'self' ${authorityHost}`;
}

/** What the page needs to sign in with MSAL.js (`/app/sign-in.json`). */
export interface WebAppSignIn {
  /** The page's own app registration (`WEB_APP_CLIENT_ID`). */
  clientId: string;
  /** The tenant's authority host (`ENTRA_AUTHORITY_HOST`), an https origin. */
  authorityHost: string;
  tenantId: string;
  /** What the page asks a token for: the gateway's API scope, `api://{ENTRA_CLIENT_ID}/access_as_user`. */
  scopes: string[];
}

/** Source maps give the page's whole source away; the build makes none, and none is served if one is left in the folder. */
const SOURCE_MAP = /\.map$/i;

export interface WebAppOptions {
  /** The built page (`WEB_APP_DIR`). */
  root: string;
  /** With `AUTH_MODE=obo` and `WEB_APP_CLIENT_ID`: the page signs in. */
  signIn?: WebAppSignIn;
}

/**
 * A built web page at `/app/` on the gateway's own origin (the demo's example page): its files
 * only, never a dotfile (`.env`, `.git/`) or a source map, every answer with the security
 * headers above; and `/app/sign-in.json`, what MSAL.js needs with sign-in (nothing secret).
 * Encapsulated, so the headers and the hook stay on `/app/`.
 */
export const webAppPlugin: FastifyPluginAsync<WebAppOptions> = async (app: FastifyInstance, { root, signIn }) => {
  const headers = {
    'content-security-policy': signIn ? signInContentSecurityPolicy(signIn.authorityHost) : WEB_APP_CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.headers(headers);
    done(null, payload);
  });
  // Without sign-in, `{}`: the page then signs nobody in (a 404 would be a console error in every browser).
  const settings = signIn ? { clientId: signIn.clientId, authority: `${signIn.authorityHost}/${signIn.tenantId}`, scopes: signIn.scopes } : {};
  app.get('/app/sign-in.json', (_request, reply) => reply.header('cache-control', 'no-store').send(settings));
  await app.register(fastifyStatic, {
    root,
    prefix: '/app/',
    dotfiles: 'deny',
    allowedPath: (pathName) => !SOURCE_MAP.test(pathName),
  });
  app.get('/app', (_request, reply) => reply.redirect('/app/'));
};
