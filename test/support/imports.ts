/**
 * The project's imports, read from the source with TypeScript's parser (no module is loaded), for
 * the layer rules of ARCHITECTURE.md (test/unit/architecture.test.ts). Type-only imports count:
 * they tie the files together for a reader and for tsc, though the build erases them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** The importing file, from the repository's root (`src/graph/graph-client.ts`). */
  file: string;
  /** As written (`../errors/gateway-error.js`, `fastify`). */
  specifier: string;
  /** The imported file from the repository's root, for a relative import; undefined for a package. */
  target: string | undefined;
  /** `import type` / `export type` / `import('…').T`: erased from the build, nothing is loaded. */
  typeOnly: boolean;
  /** `import('…')` at run time: loaded only when that code runs. */
  dynamic: boolean;
}

const SOURCE_FILE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;

/** The source files under `folder` (from `root`), as repository paths, sorted. */
export function sourceFiles(root: string, folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(posix.join(root, folder), { withFileTypes: true })) {
    const path = posix.join(folder, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') files.push(...sourceFiles(root, path));
    else if (entry.isFile() && SOURCE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files.sort();
}

/** Every import of every file under `folders`, read from disk. */
export function importsUnder(root: string, folders: readonly string[]): ImportEdge[] {
  const exists = (file: string) => existsSync(posix.join(root, file));
  return folders.flatMap((folder) =>
    sourceFiles(root, folder).flatMap((file) => importsOf(file, readFileSync(posix.join(root, file), 'utf8'), exists)),
  );
}

/** The imports `text` (the content of `file`) makes: static, dynamic, type-only and `require`. */
export function importsOf(file: string, text: string, exists: (file: string) => boolean): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(file));
  const edges: ImportEdge[] = [];
  const add = (specifier: ts.Node | undefined, typeOnly: boolean, dynamic: boolean) => {
    if (specifier === undefined || !ts.isStringLiteralLike(specifier)) return;
    edges.push({ file, specifier: specifier.text, target: resolve(file, specifier.text, exists), typeOnly, dynamic });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, node.importClause?.phaseModifier === ts.SyntaxKind.TypeKeyword, false);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly, false);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true, false);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false, true);
    } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
      add(node.arguments[0], false, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function scriptKind(file: string): ts.ScriptKind {
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  if (/\.(js|mjs|cjs)$/.test(file)) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

/** The file a relative specifier names: `./x.js` is `./x.ts` in the source (NodeNext's rule). */
function resolve(file: string, specifier: string, exists: (file: string) => boolean): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const path = posix.normalize(posix.join(posix.dirname(file), specifier));
  const stem = path.replace(/\.(js|mjs|cjs|jsx)$/, '');
  const candidates = path.endsWith('.mjs')
    ? [`${stem}.mts`, path]
    : path.endsWith('.cjs')
      ? [`${stem}.cts`, path]
      : path.endsWith('.js') || path.endsWith('.jsx')
        ? [`${stem}.ts`, `${stem}.tsx`, path]
        : [path, `${path}.ts`, `${path}/index.ts`];
  // A generated file not built yet still has its place: the first candidate.
  return candidates.find(exists) ?? candidates[0];
}

/**
 * The import cycles between files: each strongly connected set of files (Tarjan), given as one
 * cycle through it, first file repeated at the end (`a -> b -> c -> a`).
 */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (edge.target === undefined) continue;
    if (!next.has(edge.file)) next.set(edge.file, new Set());
    next.get(edge.file)!.add(edge.target);
  }
  return stronglyConnected(next)
    .filter((files) => files.length > 1 || next.get(files[0]!)?.has(files[0]!))
    .map((files) => cycleThrough(files, next));
}

function stronglyConnected(next: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const sets: string[][] = [];
  const connect = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const target of next.get(file) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const set: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      set.push(member);
    } while (member !== file);
    sets.push(set.sort());
  };
  for (const file of [...next.keys()].sort()) if (!index.has(file)) connect(file);
  return sets;
}

/** The shortest way from the set's first file back to itself, through files of the set only. */
function cycleThrough(files: readonly string[], next: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const start = files[0]!;
  const members = new Set(files);
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const file = queue[head]!;
    for (const target of [...(next.get(file) ?? [])].sort()) {
      if (!members.has(target)) continue;
      if (target === start) {
        const way: string[] = [];
        for (let at = file; at !== start; at = cameFrom.get(at)!) way.unshift(at);
        return [start, ...way, start];
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, file);
        queue.push(target);
      }
    }
  }
  return [...files, start];
}
