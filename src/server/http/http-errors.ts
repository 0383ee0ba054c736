import type { FastifyReply } from 'fastify';
import type { GatewayErrorCode } from '../../errors/codes.js';

/** A GraphQL-shaped error answer for a request refused before Apollo sees it. */
export function sendError(
  reply: FastifyReply,
  status: number,
  code: GatewayErrorCode,
  message: string,
  extensions?: Record<string, unknown>,
): FastifyReply {
  return reply.code(status).send({ errors: [{ message, extensions: { code, ...extensions } }] });
}
