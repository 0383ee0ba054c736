/**
 * `npm run schema:print`: writes the Federation 2 subgraph SDL (what FEDERATION=true serves) to
 * `subgraph.graphql`, or to the path given, for `rover subgraph publish --schema subgraph.graphql`.
 */
import { writeFileSync } from 'node:fs';
import { printSubgraphSchema } from '@apollo/subgraph';
import { buildContactPhotoSubgraph } from './subgraph.js';

const path = process.argv[2] ?? 'subgraph.graphql';
writeFileSync(path, `${printSubgraphSchema(buildContactPhotoSubgraph())}\n`);
process.stdout.write(`Subgraph SDL written to ${path}\n`);
