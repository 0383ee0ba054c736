/**
 * Benchmark reference 2, the limit: one HTTP hop in Node with no GraphQL. A few lines of
 * `node:http` and an undici `Pool` turn `POST /` with `{ invitationId, contactId, input }` into
 * the same PATCH on Graph and pass its answer back. GRAPH_BASE_URL names the upstream; prints
 * `listening <url>` once it serves.
 */
import http from 'node:http';
import { Pool } from 'undici';

const base = new URL(process.env['GRAPH_BASE_URL']!);
const pool = new Pool(base.origin, { connections: 256 });

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const { invitationId, contactId, input } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      invitationId: string;
      contactId: string;
      input: object;
    };
    pool
      .request({
        method: 'PATCH',
        path: `${base.pathname}/invitations/${encodeURIComponent(invitationId)}/invitedUser/contacts/${encodeURIComponent(contactId)}/photo`,
        headers: { authorization: request.headers.authorization ?? '', 'content-type': 'application/json' },
        body: JSON.stringify({ '@odata.type': '#microsoft.graph.profilePhoto', ...input }),
      })
      .then(async (upstream) => {
        const text = await upstream.body.text();
        response.writeHead(upstream.statusCode, { 'content-type': 'application/json' }).end(text);
      })
      .catch(() => response.writeHead(502).end());
  });
});
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`listening http://127.0.0.1:${port}/\n`);
});
