import type { FastifyPluginAsync, FastifyPluginCallback } from 'fastify';

/**
 * Marks `plugin` as one that adds to the instance it is registered on rather than to a context of
 * its own: its hooks, body parser or error handler then apply to every route of that instance,
 * the 404 answer included. It sets the hidden properties Fastify reads for this (the reference's
 * "Handle the scope"), as `fastify-plugin` does; the project does not depend on that package for
 * two properties. Every other plugin of the gateway is encapsulated, as Fastify's are by default.
 */
export function rootPlugin<Plugin extends FastifyPluginCallback<never> | FastifyPluginAsync<never>>(name: string, plugin: Plugin): Plugin {
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: name });
}
