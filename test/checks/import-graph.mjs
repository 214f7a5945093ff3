#!/usr/bin/env node
// Fails on an import circle or an import that reaches sideways or upward between the project's layers.
// Type-only imports count: they are what a reader follows too. Run: node test/checks/import-graph.mjs [root]
//
// Layers, lowest first (a file may import its own layer or lower ones, never a sibling command):
//   0 library   shared/** (except the command folders and the entry below)
//   1 commands  exporter/**, remediator/**, shared/init/** (each a separate command: no imports between them)
//   2 entry     shared/cli/main.ts, the one documented exception: it lists the commands
//   3 deploy    deploy/** (generators and the demo read the commands' definitions)
//   4 test      test/** (anything)
// Folders must not import each other in a circle either (e.g. remediator/engine <-> remediator/ingress).
//
// It also checks the files' lengths (the tree is prettier-formatted, which `prettier --check` keeps true): a reader should
// take each source file in whole (tests excluded: shared/, exporter/, remediator/, deploy/), so none over 400 lines and
// at most 15 under 15 lines (a private helper used by one file belongs inside it).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

let root = resolve(join(dirname(new URL(import.meta.url).pathname), '..', '..'));
const TOP = ['shared', 'exporter', 'remediator', 'deploy', 'test'];
const ENTRY = 'shared/cli/main.ts';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

/** The command a file belongs to, or null for library/deploy/test files. */
function commandOf(file) {
  if (file.startsWith('exporter/')) return 'exporter';
  if (file.startsWith('remediator/')) return 'remediator';
  if (file.startsWith('shared/init/')) return 'init';
  return null;
}

function layerOf(file) {
  if (file === ENTRY) return 2;
  if (file.startsWith('test/')) return 4;
  if (file.startsWith('deploy/')) return 3;
  if (commandOf(file)) return 1;
  return 0;
}
const LAYER_NAMES = ['library (shared/)', 'a command', 'the entry', 'deploy/', 'test/'];

// import ... from '...', export ... from '...', import '...', import('...'), with or without `type`.
const IMPORT_RE =
  /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The text without its comments; string and template literals are kept whole, so '/*' inside a string is text. */
function stripComments(text) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Local (relative) imports of a source text, comments stripped. Pure, so it is tested on planted text. */
export function importsOf(text) {
  const code = stripComments(text);
  const specs = [];
  for (const m of code.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith('.')) specs.push(spec);
  }
  return specs;
}

function resolveSpec(from, spec, files) {
  const base = join(dirname(from), spec).split(sep).join('/');
  for (const candidate of [
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    `${base}/index.ts`,
  ]) {
    if (files.has(candidate)) return candidate;
  }
  return null; // a .json, .mjs or non-source file: not part of the graph
}

/** Tarjan's strongly connected components: every component of more than one node is a circle. */
function circles(graph) {
  let index = 0;
  const idx = new Map(),
    low = new Map(),
    onStack = new Set(),
    stack = [],
    out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? new Set()).has(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

export function checkImportGraph(sources) {
  const files = new Set(Object.keys(sources));
  const problems = [];
  const fileGraph = new Map();
  const dirGraph = new Map();
  for (const file of files) {
    const deps = new Set();
    for (const spec of importsOf(sources[file])) {
      const target = resolveSpec(file, spec, files);
      if (!target) continue;
      deps.add(target);
      const [lf, lt] = [layerOf(file), layerOf(target)];
      const [cf, ct] = [commandOf(file), commandOf(target)];
      if (lt > lf) problems.push(`upward import: ${file} (${LAYER_NAMES[lf]}) imports ${target} (${LAYER_NAMES[lt]})`);
      else if (cf && ct && cf !== ct) problems.push(`sideways import: ${file} (${cf}) imports ${target} (${ct})`);
      const [df, dt] = [dirname(file), dirname(target)];
      // A folder may use its ancestors' pieces (remediator/engine -> remediator/remediator-section.ts) and its
      // children; the entry is left out (it sits above the commands by design). Circles are looked for between
      // folders that are not on one line of descent.
      if (file !== ENTRY && df !== dt && !`${df}/`.startsWith(`${dt}/`) && !`${dt}/`.startsWith(`${df}/`)) {
        if (!dirGraph.has(df)) dirGraph.set(df, new Set());
        dirGraph.get(df).add(dt);
      }
    }
    fileGraph.set(file, deps);
  }
  for (const comp of circles(fileGraph)) problems.push(`import circle between files: ${comp.join(' -> ')}`);
  for (const comp of circles(dirGraph)) problems.push(`import circle between folders: ${comp.join(' <-> ')}`);
  return { files: files.size, edges: [...fileGraph.values()].reduce((n, s) => n + s.size, 0), problems };
}

// Size rule (see the header): measured on the formatted text, so it holds before and after a formatting pass.
const SOURCE_TOP = ['shared', 'exporter', 'remediator', 'deploy'];
export const SIZE_LIMITS = { smallLines: 15, maxSmallFiles: 15, maxLines: 400 };

/** Checks line counts ({ file: lines }) against the size rule; files outside the source folders are left out. */
export function checkSizes(lineCounts) {
  const source = Object.entries(lineCounts)
    .filter(([file]) => SOURCE_TOP.some((top) => file.startsWith(`${top}/`)))
    .sort(([a], [b]) => a.localeCompare(b));
  const small = source.filter(([, n]) => n < SIZE_LIMITS.smallLines);
  const large = source.filter(([, n]) => n > SIZE_LIMITS.maxLines);
  const problems = [];
  if (small.length > SIZE_LIMITS.maxSmallFiles) {
    problems.push(
      `${small.length} source files under ${SIZE_LIMITS.smallLines} lines (at most ${SIZE_LIMITS.maxSmallFiles})`,
    );
  }
  for (const [file, n] of large) problems.push(`${file}: ${n} lines (over ${SIZE_LIMITS.maxLines})`);
  return { files: source.length, small, large, problems };
}

/** Line counts as `wc -l` counts them. */
function lineCounts(files) {
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(root, f), 'utf8').split('\n').length - 1]));
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('import-graph.mjs')) {
  const args = process.argv.slice(2);
  root = resolve(args.find((a) => !a.startsWith('--')) ?? root);
  const list = TOP.flatMap((t) => {
    try {
      return walk(join(root, t), []);
    } catch {
      return [];
    }
  });
  const sources = Object.fromEntries(list.map((f) => [f, readFileSync(join(root, f), 'utf8')]));
  const { files, edges, problems } = checkImportGraph(sources);
  let failed = false;
  if (problems.length) {
    console.error(`import-graph: ${problems.length} problem(s) in ${files} files:`);
    for (const p of problems) console.error(`  - ${p}`);
    console.error('Fix: move the shared piece down into shared/ (or into the importing folder), never import upward.');
    failed = true;
  } else {
    console.log(`import-graph: ${files} files, ${edges} local imports, no circles, no upward or sideways imports`);
  }
  {
    const counts = lineCounts(list.filter((f) => SOURCE_TOP.some((top) => f.startsWith(`${top}/`))));
    const { files: sourceFiles, small, large, problems: sizeProblems } = checkSizes(counts);
    const { smallLines, maxSmallFiles, maxLines } = SIZE_LIMITS;
    console.log(
      `sizes: ${sourceFiles} source files; ${small.length} under ${smallLines} lines (at most ${maxSmallFiles}), ${large.length} over ${maxLines}`,
    );
    for (const [file, n] of small) console.log(`  small ${String(n).padStart(4)}  ${file}`);
    for (const [file, n] of large) console.log(`  large ${String(n).padStart(4)}  ${file}`);
    if (sizeProblems.length) {
      console.error(`sizes: ${sizeProblems.length} problem(s):`);
      for (const p of sizeProblems) console.error(`  - ${p}`);
      console.error('Fix: merge a private helper into the one file that uses it; split a long file by concept.');
      failed = true;
    }
  }
  if (failed) process.exit(1);
}
