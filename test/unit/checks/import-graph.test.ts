import { test } from 'node:test';
import assert from 'node:assert/strict';

// The check is a plain .mjs script (it runs before and without the build), so tsc does not copy it into dist/:
// load it from the repository (this file runs from dist/test/unit/checks/).
interface GraphResult {
  files: number;
  edges: number;
  problems: string[];
}
interface SizeResult {
  files: number;
  small: [string, number][];
  large: [string, number][];
  problems: string[];
}
interface ImportGraphModule {
  importsOf(text: string): string[];
  checkImportGraph(sources: Record<string, string>): GraphResult;
  checkSizes(lineCounts: Record<string, number>): SizeResult;
}
const scriptUrl = new URL('../../../../test/checks/import-graph.mjs', import.meta.url);
const { importsOf, checkImportGraph, checkSizes } = (await import(scriptUrl.href)) as ImportGraphModule;

/** A small clean tree to plant one problem into at a time. */
const CLEAN: Record<string, string> = {
  'shared/version.ts': `export const version = '1';\n`,
  'shared/config/load.ts': `import { version } from '../version.js';\nexport const load = () => version;\n`,
  'exporter/exporter-command.ts': `import { load } from '../shared/config/load.js';\nexport const exporter = load;\n`,
  'remediator/remediator-command.ts': `import { load } from '../shared/config/load.js';\nexport const rem = load;\n`,
  'shared/init/init-command.ts': `import { version } from '../version.js';\nexport const init = version;\n`,
  'shared/cli/main.ts': `import '../../exporter/exporter-command.js';\nimport '../../remediator/remediator-command.js';\nimport '../init/init-command.js';\n`,
  'deploy/generate.ts': `import { exporter } from '../exporter/exporter-command.js';\nexport const g = exporter;\n`,
  'test/sim/sim.ts': `import { version } from '../../shared/version.js';\nexport const sim = version;\n`,
  'test/unit/x.test.ts': `import { sim } from '../sim/sim.js';\nimport '../../deploy/generate.js';\nimport '../../shared/cli/main.js';\n`,
};

function problemsWith(planted: Record<string, string>): string[] {
  return checkImportGraph({ ...CLEAN, ...planted }).problems;
}

function assertOneProblem(planted: Record<string, string>, pattern: RegExp): void {
  const problems = problemsWith(planted);
  assert.equal(problems.length, 1, `expected one problem, got: ${JSON.stringify(problems)}`);
  assert.match(problems[0] ?? '', pattern);
}

test('the clean tree has no problem, and the entry may import every command (the documented exception)', () => {
  const result = checkImportGraph(CLEAN);
  assert.deepEqual(result.problems, []);
  assert.equal(result.files, Object.keys(CLEAN).length);
  assert.equal(result.edges, 12);
});

test('a file circle is caught', () => {
  const problems = problemsWith({
    'shared/a.ts': `import { b } from './b.js';\nexport const a = b;\n`,
    'shared/b.ts': `import { a } from './a.js';\nexport const b = a;\n`,
  });
  assert.deepEqual(problems, ['import circle between files: shared/a.ts -> shared/b.ts']);
});

test('an upward import from the library into a command is caught', () => {
  assertOneProblem(
    { 'shared/gpu/gpu.ts': `import { exporter } from '../../exporter/exporter-command.js';\n` },
    /^upward import: shared\/gpu\/gpu\.ts \(library \(shared\/\)\) imports exporter\/exporter-command\.ts \(a command\)$/,
  );
});

test('a sideways import between two commands is caught, init included', () => {
  assertOneProblem(
    { 'exporter/x.ts': `import { rem } from '../remediator/remediator-command.js';\n` },
    /^sideways import: exporter\/x\.ts \(exporter\) imports remediator\/remediator-command\.ts \(remediator\)$/,
  );
  assertOneProblem(
    { 'remediator/y.ts': `import { init } from '../shared/init/init-command.js';\n` },
    /^sideways import: remediator\/y\.ts \(remediator\) imports shared\/init\/init-command\.ts \(init\)$/,
  );
});

test('a type-only import counts like any other', () => {
  assertOneProblem(
    {
      'shared/types.ts': `import type { exporter } from '../exporter/exporter-command.js';\nexport type E = typeof exporter;\n`,
    },
    /^upward import: shared\/types\.ts .* imports exporter\/exporter-command\.ts/,
  );
  assertOneProblem(
    { 'shared/reexport.ts': `export type { rem } from '../remediator/remediator-command.js';\n` },
    /^upward import: shared\/reexport\.ts .* imports remediator\/remediator-command\.ts/,
  );
});

test('a dynamic import counts like any other', () => {
  assertOneProblem(
    {
      'shared/lazy.ts': `export async function lazy() {\n  return (await import('../remediator/remediator-command.js')).rem;\n}\n`,
    },
    /^upward import: shared\/lazy\.ts .* imports remediator\/remediator-command\.ts/,
  );
});

test('an import in a comment is ignored', () => {
  const problems = problemsWith({
    'shared/commented.ts': [
      `// import { exporter } from '../exporter/exporter-command.js';`,
      `/* import { rem } from '../remediator/remediator-command.js';`,
      `   import('../remediator/remediator-command.js') */`,
      `export const url = 'http://example.com/import';`,
      '',
    ].join('\n'),
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(importsOf(`// import { a } from './a.js';\nimport { b } from './b.js'; // from './c.js'\n`), [
    './b.js',
  ]);
});

test('deploy/ importing test/ is an upward import', () => {
  assertOneProblem(
    { 'deploy/demo/inject.ts': `import { sim } from '../../test/sim/sim.js';\n` },
    /^upward import: deploy\/demo\/inject\.ts \(deploy\/\) imports test\/sim\/sim\.ts \(test\/\)$/,
  );
});

test('only shared/cli/main.ts may import the commands: another file in shared/cli may not', () => {
  assertOneProblem(
    { 'shared/cli/commands.ts': `import { exporter } from '../../exporter/exporter-command.js';\n` },
    /^upward import: shared\/cli\/commands\.ts \(library \(shared\/\)\) imports exporter\/exporter-command\.ts/,
  );
  assertOneProblem(
    { 'exporter/run.ts': `import '../shared/cli/main.js';\n` },
    /^upward import: exporter\/run\.ts \(a command\) imports shared\/cli\/main\.ts \(the entry\)$/,
  );
});

test('two folders importing each other are a folder circle even without a file circle', () => {
  const problems = problemsWith({
    'remediator/engine/engine.ts': `import { op } from '../operators/op.js';\nexport const engine = op;\n`,
    'remediator/operators/op.ts': `export const op = 1;\n`,
    'remediator/operators/uses-engine-types.ts': `import type { Engine } from '../engine/types.js';\nexport type E = Engine;\n`,
    'remediator/engine/types.ts': `export interface Engine { run(): void }\n`,
  });
  assert.deepEqual(problems, ['import circle between folders: remediator/engine <-> remediator/operators']);
});

test('a folder may use its ancestors and its children without that counting as a circle', () => {
  const problems = problemsWith({
    'remediator/config.ts': `import { op } from './engine/op.js';\nexport const config = op;\n`,
    'remediator/engine/op.ts': `export const op = 1;\n`,
    'remediator/engine/use-config.ts': `import { config } from '../config.js';\nexport const c = config;\n`,
  });
  assert.deepEqual(problems, []);
});

test('importsOf finds every import form and only relative ones', () => {
  const text = [
    `import { a } from './a.js';`,
    `import b, { type B } from "../b.js";`,
    `import {`,
    `  c,`,
    `  d,`,
    `} from './cd.js';`,
    `import './side-effect.js';`,
    `export * from './all.js';`,
    `export { e } from './e.js';`,
    `import { readFileSync } from 'node:fs';`,
    `const f = await import('./f.js');`,
    '',
  ].join('\n');
  assert.deepEqual(importsOf(text), [
    './a.js',
    '../b.js',
    './cd.js',
    './side-effect.js',
    './all.js',
    './e.js',
    './f.js',
  ]);
});

test('sizes: more than 15 source files under 15 lines, or one over 400, fail; tests and exact limits do not', () => {
  const counts: Record<string, number> = { 'shared/ok.ts': 400, 'exporter/ok.ts': 15, 'test/unit/tiny.test.ts': 3 };
  for (let i = 0; i < 15; i++) counts[`remediator/small-${String(i).padStart(2, '0')}.ts`] = 14;
  const ok = checkSizes(counts);
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.files, 17);
  assert.equal(ok.small.length, 15);

  const bad = checkSizes({ ...counts, 'deploy/one-more.ts': 2, 'shared/long.ts': 401 });
  assert.deepEqual(bad.problems, [
    '16 source files under 15 lines (at most 15)',
    'shared/long.ts: 401 lines (over 400)',
  ]);
  assert.deepEqual(bad.large, [['shared/long.ts', 401]]);
});
