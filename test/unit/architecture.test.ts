/**
 * The rules of ARCHITECTURE.md's "Which folder may import which", checked over every import of
 * src/ and examples/ (type-only ones included), so that a new import against one fails `npm test`
 * with the rule's name, the file and the import. A rule is an allow-list: a folder may import its
 * own files and what its rule names, nothing else; a folder without a rule fails too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { importCycles, importsOf, importsUnder, type ImportEdge } from '../support/imports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** What a folder may import of another (`area`, `graph/`), and how. */
interface Allowance {
  area: string;
  /** Only these of the area's files (their path inside the area), when not all of them. */
  files?: RegExp;
  /** Only `import type`: the build erases it, so nothing of the area is loaded. */
  typeOnly?: true;
  /** Only `import()` (or `import type`): the area is loaded when the configuration asks for it. */
  dynamicOnly?: true;
}

interface Rule {
  /** As ARCHITECTURE.md names it. */
  name: string;
  /** The areas it governs: folders of src/ (`graph/`) or files at its root (`main.ts`). */
  governs: readonly string[];
  /** What they may import besides their own area. */
  may: readonly Allowance[] | 'any folder';
}

/** Imported by everything of the gateway: they import nothing of it. */
const LEAVES: readonly Allowance[] = [{ area: 'errors/' }, { area: 'limits/' }, { area: 'memo/' }, { area: 'version.ts' }];

const RULES: readonly Rule[] = [
  { name: 'leaves', governs: ['errors/', 'limits/', 'memo/', 'version.ts'], may: [] },
  { name: 'graph-service', governs: ['graph/'], may: [...LEAVES, { area: 'photos/', files: /^image-format\.ts$/ }] },
  { name: 'photos-service', governs: ['photos/'], may: LEAVES },
  { name: 'auth-service', governs: ['auth/'], may: [...LEAVES, { area: 'config/', typeOnly: true }] },
  {
    name: 'photo-cache-service',
    governs: ['photo-cache/'],
    may: [...LEAVES, { area: 'graph/', typeOnly: true }, { area: 'photos/', files: /^image-format\.ts$/ }],
  },
  {
    name: 'redis-implements',
    governs: ['redis/'],
    may: [
      ...LEAVES,
      { area: 'graph/', files: /^(mailbox-limiter|fair-queue|mailbox-scheduler|mailbox-budget|mailbox-budgets)\.ts$/ },
      { area: 'auth/', files: /^token-exchange\.ts$/, typeOnly: true },
      { area: 'photo-cache/', files: /^photo-cache-store\.ts$/ },
      { area: 'config/', files: /^redis-config\.ts$/, typeOnly: true },
    ],
  },
  {
    name: 'schema-uses-services',
    governs: ['schema/'],
    may: [...LEAVES, { area: 'graph/' }, { area: 'photos/' }, { area: 'photo-cache/' }, { area: 'auth/', typeOnly: true }, { area: 'generated/' }],
  },
  { name: 'generated-types', governs: ['generated/'], may: [{ area: 'schema/', typeOnly: true }] },
  {
    name: 'server-wires',
    governs: ['server/'],
    may: [
      ...LEAVES,
      ...['graph/', 'photos/', 'photo-cache/', 'auth/', 'schema/', 'generated/', 'metrics/', 'config/'].map((area) => ({ area })),
      { area: 'redis/', dynamicOnly: true },
    ],
  },
  {
    name: 'metrics-observers',
    governs: ['metrics/'],
    may: ['graph/', 'photos/', 'photo-cache/', 'redis/'].map((area) => ({ area, files: /^[^/]+-observer\.ts$/, typeOnly: true }) as const),
  },
  { name: 'telemetry-route-names', governs: ['telemetry/'], may: [{ area: 'version.ts' }, { area: 'config/' }, { area: 'graph/', files: /^contact-photo-route\.ts$/ }] },
  { name: 'config-reads-env', governs: ['config/'], may: [] },
  { name: 'simulator-apart', governs: ['simulator/'], may: [] },
  { name: 'entry-points', governs: ['main.ts', 'demo.ts', 'process-lifecycle.ts'], may: 'any folder' },
  { name: 'thread-pool-preload', governs: ['threadpool.cjs'], may: [{ area: 'config/', files: /^photo-concurrency\.cjs$/ }] },
];

/** Packages only some folders may import. */
const PACKAGE_RULES: readonly { name: string; packages: RegExp; only: readonly string[] }[] = [
  { name: 'fastify-in-server', packages: /^(fastify|@fastify\/.+|@as-integrations\/fastify)$/, only: ['server/'] },
  { name: 'got-towards-microsoft', packages: /^got$/, only: ['graph/', 'auth/'] },
];

/** `graph/` for `src/graph/x.ts`, `simulator/` for `src/simulator/graph/x.ts`, `main.ts` for `src/main.ts`. */
function areaOf(file: string): string {
  const inSrc = file.slice('src/'.length);
  const slash = inSrc.indexOf('/');
  return slash === -1 ? inSrc : inSrc.slice(0, slash + 1);
}

function describeImport(edge: ImportEdge): string {
  const how = edge.typeOnly ? 'import type' : edge.dynamic ? 'import()' : 'import';
  return `${edge.file}: ${how} '${edge.specifier}'${edge.target === undefined ? '' : ` (${edge.target})`}`;
}

function allows(allowance: Allowance, edge: ImportEdge, area: string): boolean {
  if (allowance.area !== area) return false;
  if (allowance.files && !allowance.files.test(edge.target!.slice(`src/${area}`.length))) return false;
  if (allowance.typeOnly && !edge.typeOnly) return false;
  return !allowance.dynamicOnly || edge.dynamic || edge.typeOnly;
}

/** Each import of src/ against the rules, as `rule: file: import 'specifier' (target)`. */
function layerViolations(edges: readonly ImportEdge[]): string[] {
  const violations: string[] = [];
  for (const edge of edges) {
    const from = areaOf(edge.file);
    const rule = RULES.find((candidate) => candidate.governs.includes(from));
    if (rule === undefined) {
      violations.push(`no rule for ${from}: ${describeImport(edge)} (give src/${from} a rule in ARCHITECTURE.md and this test)`);
      continue;
    }
    if (edge.target === undefined) {
      const packageRule = PACKAGE_RULES.find((candidate) => candidate.packages.test(edge.specifier) && !candidate.only.includes(from));
      if (packageRule) violations.push(`${packageRule.name}: ${describeImport(edge)}`);
      continue;
    }
    const to = edge.target.startsWith('src/') ? areaOf(edge.target) : `${edge.target} (outside src/)`;
    if (to === from || rule.may === 'any folder') continue;
    if (!rule.may.some((allowance) => allows(allowance, edge, to))) violations.push(`${rule.name}: ${describeImport(edge)}`);
  }
  return violations;
}

function exists(file: string): boolean {
  return existsSync(`${ROOT}/${file}`);
}

describe('the layer rules of ARCHITECTURE.md', () => {
  const edges = importsUnder(ROOT, ['src']);

  it('finds the imports of src/, type-only and dynamic ones included', () => {
    // A check that read nothing would pass: these three are known to be there.
    expect(edges).toContainEqual({ file: 'src/graph/client-options.ts', specifier: './graph-call-observer.js', target: 'src/graph/graph-call-observer.ts', typeOnly: true, dynamic: false });
    expect(edges.filter((edge) => edge.dynamic).length).toBeGreaterThan(0);
    expect(edges.filter((edge) => edge.target !== undefined).length).toBeGreaterThan(150);
  });

  it('holds for every import of src/', () => {
    expect(layerViolations(edges)).toEqual([]);
  });

  it('names the rule, the file and the import when an import goes against a rule', () => {
    const planted = [
      ...importsOf('src/graph/planted.ts', "import { createGateway } from '../server/gateway.js';", exists),
      ...importsOf('src/metrics/planted.ts', "import { MailboxScheduler } from '../graph/mailbox-scheduler.js';", exists),
      ...importsOf('src/metrics/planted-value.ts', "import { GraphCallObserver } from '../graph/graph-call-observer.js';", exists),
      ...importsOf('src/server/planted.ts', "import { createShared } from '../redis/shared.js';", exists),
      ...importsOf('src/schema/planted.ts', "import Fastify from 'fastify';", exists),
      ...importsOf('src/newfolder/planted.ts', "import { GatewayError } from '../errors/gateway-error.js';", exists),
    ];
    expect(layerViolations(planted)).toEqual([
      "graph-service: src/graph/planted.ts: import '../server/gateway.js' (src/server/gateway.ts)",
      "metrics-observers: src/metrics/planted.ts: import '../graph/mailbox-scheduler.js' (src/graph/mailbox-scheduler.ts)",
      "metrics-observers: src/metrics/planted-value.ts: import '../graph/graph-call-observer.js' (src/graph/graph-call-observer.ts)",
      "server-wires: src/server/planted.ts: import '../redis/shared.js' (src/redis/shared.ts)",
      "fastify-in-server: src/schema/planted.ts: import 'fastify'",
      "no rule for newfolder/: src/newfolder/planted.ts: import '../errors/gateway-error.js' (src/errors/gateway-error.ts) (give src/newfolder/ a rule in ARCHITECTURE.md and this test)",
    ]);
  });

  it('leaves no import cycle between files of src/', () => {
    expect(importCycles(edges).map((cycle) => `no-cycles: ${cycle.join(' -> ')}`)).toEqual([]);
  });

  it('reports a cycle with its files in order', () => {
    const planted = [
      ...importsOf('src/schema/a.ts', "import type { B } from './b.js';", exists),
      ...importsOf('src/schema/b.ts', "import { c } from './c.js';", exists),
      ...importsOf('src/schema/c.ts', "export { a } from './a.js';", exists),
      ...importsOf('src/schema/d.ts', "import { a } from './a.js';", exists),
    ];
    expect(importCycles(planted)).toEqual([['src/schema/a.ts', 'src/schema/b.ts', 'src/schema/c.ts', 'src/schema/a.ts']]);
  });

  it('names in ARCHITECTURE.md every rule it checks', () => {
    const architecture = readFileSync(`${ROOT}/ARCHITECTURE.md`, 'utf8');
    const names = [...RULES, ...PACKAGE_RULES].map((rule) => rule.name).concat('no-cycles', 'examples-standalone');
    expect(names.filter((name) => !architecture.includes(`\`${name}\``))).toEqual([]);
  });
});

describe('examples/', () => {
  it('imports only its own files (the generated documents among them) and packages: it is what a frontend copies', () => {
    const leaving = importsUnder(ROOT, ['examples'])
      .filter((edge) => edge.target !== undefined && !edge.target.startsWith('examples/'))
      .map((edge) => `examples-standalone: ${describeImport(edge)}`);
    expect(leaving).toEqual([]);
  });
});
