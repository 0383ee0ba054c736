import type { ApolloServer } from '@apollo/server';
import fastifyApollo from '@as-integrations/fastify';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TrustedDocuments } from '../../config/trusted-documents.js';
import { GatewayErrorCode } from '../../errors/codes.js';
import type { GatewayContext } from '../../schema/context.js';
import { isTrustedRequest, UNTRUSTED_DOCUMENT_MESSAGE } from '../apollo/trusted-documents.js';
import type { GatewayServices } from '../services.js';
import { bearerAuthorization, clientRequestId } from './caller.js';
import { sendError } from './http-errors.js';
import { uploadAdmission } from './upload-admission.js';

export const GRAPHQL_PATH = '/graphql';

export interface GraphQLRouteOptions {
  /** Started. */
  apollo: ApolloServer<GatewayContext>;
  services: Pick<GatewayServices, 'graph' | 'photos' | 'metrics' | 'signIn' | 'photoCache' | 'photoUrls' | 'contactLists'>;
  /** `PHOTO_DATA_URL_BUDGET_BYTES`. */
  dataUrlBudgetBytes: number;
  /** With `TRUSTED_DOCUMENTS`: the manifest a document sent as text must be in. */
  trusted: TrustedDocuments | undefined;
  /** Whether introspection is allowed (it is then trusted too). */
  introspection: boolean;
}

/**
 * `/graphql` (GET and POST): Apollo Server, given each request's context. Encapsulated, so the
 * trusted-documents check applies to this route only.
 */
export const graphqlRoutePlugin: FastifyPluginAsync<GraphQLRouteOptions> = async (app, options) => {
  const { apollo, trusted, introspection } = options;
  // Trusted documents: a document sent as text must be the manifest's; checked once the body is
  // parsed and before any GraphQL work, so that an untrusted document is never parsed or run.
  if (trusted) {
    app.addHook('preHandler', (request, reply, done) => {
      const graphqlRequest = request.method === 'GET' ? request.query : request.body;
      if (isTrustedRequest(trusted, introspection, graphqlRequest)) return done();
      sendError(reply, 403, GatewayErrorCode.FORBIDDEN, UNTRUSTED_DOCUMENT_MESSAGE);
    });
  }
  await app.register(fastifyApollo(apollo), {
    path: GRAPHQL_PATH,
    method: ['GET', 'POST'],
    context: async (request, reply) => gatewayContext(request, reply, options),
  });
};

/** What the resolvers of one request work with. */
function gatewayContext(request: FastifyRequest, reply: FastifyReply, { services, dataUrlBudgetBytes }: GraphQLRouteOptions): GatewayContext {
  const { graph, photos, metrics, signIn, photoCache, photoUrls, contactLists } = services;
  const id = clientRequestId(request.headers['client-request-id']);
  const admission = uploadAdmission(request.raw);
  void reply.header('client-request-id', id);
  return {
    graph,
    authorization: bearerAuthorization(request.headers.authorization),
    clientRequestId: id,
    stats: { attempts: 0, upstreamStatus: null },
    requestId: request.id,
    photos,
    photoCache,
    photoUrls,
    contactLists,
    dataUrlBudgetBytes,
    observer: metrics,
    ...(signIn && { signIn: { exchange: signIn.exchange } }),
    ...(admission && { upload: admission }),
    // The operation's line is written once this answer has gone, with the status sent.
    exchange: reply.raw,
  };
}
