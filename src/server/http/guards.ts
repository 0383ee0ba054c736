import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayErrorCode } from '../../errors/codes.js';
import { defaultMessage } from '../../errors/gateway-error.js';
import { authorizationHeaderCount } from './caller.js';
import type { Draining } from './draining.js';
import { GRAPHQL_PATH } from './graphql-route.js';
import { sendError } from './http-errors.js';
import { rootPlugin } from './root-plugin.js';
import type { UploadGate } from './upload-admission.js';

export interface GuardOptions {
  draining: Draining;
  uploads: UploadGate;
}

/**
 * What is refused before any parsing, in one `onRequest` hook: a bad `Host`, a GraphQL request
 * while draining, a second `Authorization`, and an upload its headers already rule out
 * (upload-admission.ts). On the root, so that it runs for every route and the 404 answer.
 *
 * It runs on every request, so it stays cheap, and callback-style: an async hook costs a promise
 * per request for what is mostly a flag check.
 */
export const guardsPlugin = rootPlugin(
  'gateway-guards',
  ((app, { draining, uploads }, done) => {
    app.addHook('onRequest', (request, reply, done) => {
      // The matched route, not the raw URL: /%67raphql is routed to GraphQL too.
      const graphql = request.routeOptions.url === GRAPHQL_PATH;
      if (!validHost(request.headers.host)) {
        sendError(reply, 400, GatewayErrorCode.BAD_REQUEST, 'The Host header is not a valid host.');
      } else if (draining.started && graphql) {
        void reply.header('connection', 'close');
        sendError(reply, 503, GatewayErrorCode.SHUTTING_DOWN, defaultMessage(GatewayErrorCode.SHUTTING_DOWN));
      } else if (authorizationHeaderCount(request.raw.rawHeaders) > 1) {
        sendError(reply, 400, GatewayErrorCode.BAD_REQUEST, 'Send at most one Authorization header.');
      } else if (graphql && uploads.isUpload(request)) {
        // Decided before its body is read: with sign-in, that waits for the token's check.
        uploads.admit(request, reply).then((refused) => {
          if (!refused) carryOn(request, reply, done);
        }, done);
      } else {
        carryOn(request, reply, done);
      }
    });
    // A client that sends `Expect: 100-continue` waits for leave to send its body. Without this
    // listener Node grants it before any hook runs; with it, the hook above decides first, so an
    // upload that is too large or finds the photo queue full is refused before its body is sent.
    app.server.on('checkContinue', (request, response) => app.server.emit('request', request, response));
    done();
  }) satisfies FastifyPluginCallback<GuardOptions>,
);

/** Lets a request through to its body and handler: Node leaves "100 Continue" to us (see checkContinue above), asked for only now. */
function carryOn(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  if (request.headers.expect?.toLowerCase() === '100-continue') reply.raw.writeContinue();
  done();
}

/** What may stand in a Host header (a name, IPv4, or bracketed IPv6, and a port); the common case is tested by one regular expression. */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

/**
 * Whether `host` can be the authority of a URL. A malformed one (`Host: a b`) made the Apollo
 * integration's URL parsing throw, which Fastify answered with a 500 and a stack in the log.
 */
function validHost(host: string | undefined): boolean {
  if (host === undefined || PLAIN_HOST.test(host)) return true;
  return URL.canParse(`http://${host}/`) && !/[\s/?#@\\]/.test(host);
}
