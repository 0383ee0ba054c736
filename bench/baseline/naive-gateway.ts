/**
 * Benchmark reference 3, the naive baseline: the same mutation written the obvious way, with
 * Apollo's `startStandaloneServer` and `got` with its default options. No tuning on purpose.
 * GRAPH_BASE_URL names the upstream; prints `listening <url>` once it serves.
 */
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import got from 'got';

const graph = process.env['GRAPH_BASE_URL']!;
const typeDefs = readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8');

interface Context {
  token: string | undefined;
}

interface PhotoArgs {
  invitationId: string;
  contactId: string;
}

const photoUrl = ({ invitationId, contactId }: PhotoArgs) =>
  `${graph}/invitations/${encodeURIComponent(invitationId)}/invitedUser/contacts/${encodeURIComponent(contactId)}/photo`;

const server = new ApolloServer<Context>({
  typeDefs,
  resolvers: {
    Query: {
      contactPhoto: (_: unknown, args: PhotoArgs, { token }: Context) =>
        got(photoUrl(args), { headers: { authorization: token } }).json(),
    },
    Mutation: {
      updateContactPhoto: (_: unknown, args: PhotoArgs & { input: object }, { token }: Context) =>
        got
          .patch(photoUrl(args), {
            headers: { authorization: token },
            json: { '@odata.type': '#microsoft.graph.profilePhoto', ...args.input },
          })
          .json(),
    },
  },
});

const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env['PORT'] ?? 0), host: '127.0.0.1' },
  context: async ({ req }) => ({ token: req.headers.authorization }),
});
process.stdout.write(`listening ${url}\n`);
