/**
 * Benchmark reference 4, the peer a user would pick instead: the same mutation with
 * `@apollo/datasource-rest`, as Apollo's documentation teaches it (a RESTDataSource per request,
 * the token set in `willSendRequest`, a shared cache), on `startStandaloneServer`.
 * GRAPH_BASE_URL names the upstream; prints `listening <url>` once it serves.
 */
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { RESTDataSource, type AugmentedRequest, type DataSourceConfig } from '@apollo/datasource-rest';

const typeDefs = readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8');

interface Photo {
  id: string;
  height: number | null;
  width: number | null;
}

class GraphAPI extends RESTDataSource {
  override baseURL = `${process.env['GRAPH_BASE_URL']!}/`;
  readonly #token: string;

  constructor(options: DataSourceConfig & { token: string }) {
    super(options);
    this.#token = options.token;
  }

  override willSendRequest(_path: string, request: AugmentedRequest): void {
    request.headers['authorization'] = this.#token;
  }

  getContactPhoto(invitationId: string, contactId: string): Promise<Photo> {
    return this.get(`invitations/${encodeURIComponent(invitationId)}/invitedUser/contacts/${encodeURIComponent(contactId)}/photo`);
  }

  updateContactPhoto(invitationId: string, contactId: string, input: object): Promise<Photo> {
    return this.patch(`invitations/${encodeURIComponent(invitationId)}/invitedUser/contacts/${encodeURIComponent(contactId)}/photo`, {
      body: { '@odata.type': '#microsoft.graph.profilePhoto', ...input },
    });
  }
}

interface Context {
  dataSources: { graph: GraphAPI };
}

interface PhotoArgs {
  invitationId: string;
  contactId: string;
}

const server = new ApolloServer<Context>({
  typeDefs,
  resolvers: {
    Query: {
      contactPhoto: (_: unknown, { invitationId, contactId }: PhotoArgs, { dataSources }: Context) =>
        dataSources.graph.getContactPhoto(invitationId, contactId),
    },
    Mutation: {
      updateContactPhoto: (_: unknown, { invitationId, contactId, input }: PhotoArgs & { input: object }, { dataSources }: Context) =>
        dataSources.graph.updateContactPhoto(invitationId, contactId, input),
    },
  },
});

const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env['PORT'] ?? 0), host: '127.0.0.1' },
  context: async ({ req }) => {
    const { cache } = server;
    return { dataSources: { graph: new GraphAPI({ token: req.headers.authorization ?? '', cache }) } };
  },
});
process.stdout.write(`listening ${url}\n`);
