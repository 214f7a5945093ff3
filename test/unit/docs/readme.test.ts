// The references live next to what they describe: the README is the day-one page and links to them; exporter/README.md
// and remediator/README.md hold the metrics, deploy/CONFIGURATION.md is generated from the config sections. Keep them
// complete as the code changes, and every link between them working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSections, renderConfigReference } from '../../../deploy/monitoring/render-config-reference.js';
import { loadCommands } from '../../../shared/cli/main.js';
import { envNameFor } from '../../../shared/config/scalar-field.js';
import { exporterMetricNames } from '../../helpers/exporter-metric-names.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (path: string) => readFileSync(join(repo, path), 'utf8');
const readme = read('README.md');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every configuration key and its environment variable is in deploy/CONFIGURATION.md, as the sections generate it', async () => {
  const reference = read('deploy/CONFIGURATION.md');
  const sections = await configSections();
  assert.equal(
    reference,
    renderConfigReference(sections),
    'deploy/CONFIGURATION.md is stale: npx tsc -p tsconfig.json && node dist/deploy/monitoring/generate.js',
  );
  for (const section of sections) {
    for (const key of Object.keys(section.scalars)) {
      assert.ok(reference.includes(`\`${section.key}.${key}\``), `${section.key}.${key} missing`);
      assert.ok(
        reference.includes(envNameFor(`${section.key}.${key}`)),
        `${envNameFor(`${section.key}.${key}`)} missing`,
      );
    }
  }
});

test('every metric the exporter can publish is in exporter/README.md', () => {
  const names = exporterMetricNames();
  assert.ok(names.size > 50, `found only ${names.size} metric names: the scan is broken`);
  const doc = read('exporter/README.md');
  assert.deepEqual(
    [...names].filter((n) => !doc.includes(`\`${n}\``)),
    [],
  );
});

test('every metric the remediator can publish is in remediator/README.md', () => {
  const names = new Set<string>();
  for (const file of sources(join(repo, 'remediator'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/['"](sentinel_[a-z_]+)['"]/g)) names.add(m[1]!);
  }
  assert.ok(names.size > 10, `found only ${names.size} metric names: the scan is broken`);
  const doc = read('remediator/README.md');
  assert.deepEqual(
    [...names].filter((n) => !doc.includes(`\`${n}\``)),
    [],
  );
});

test('the quick start has the two commands, and CI runs the README test command', async () => {
  const quick = readme.split('## Quick start')[1]!.split('\n## ')[0]!;
  const block = quick
    .match(/```sh\n([\s\S]*?)```/)![1]!
    .trim()
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim());
  assert.deepEqual(block, ['bash deploy/demo/run-demo.sh', 'npm test']);
  assert.match(readFileSync(join(repo, '.ci/run'), 'utf8'), /^exec npm test/m);
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.test, 'bash test/run-all.sh');
  for (const cmd of await loadCommands())
    assert.ok(readme.includes(`ollama-sentinel ${cmd.name}`), `command ${cmd.name} undocumented`);
});

test('the README stays a day-one page of at most 25 KB, with a layout line for every top-level folder', () => {
  assert.ok(
    Buffer.byteLength(readme) <= 25_600,
    `README.md is ${Buffer.byteLength(readme)} bytes: move reference material next to its code and link it`,
  );
  const layout = readme.split('\n## Layout\n')[1]?.split('\n## ')[0] ?? '';
  for (const dir of readdirSync(repo)) {
    if (dir.startsWith('.') || dir === 'node_modules' || dir === 'dist' || !statSync(join(repo, dir)).isDirectory())
      continue;
    assert.ok(layout.includes(`\`${dir}/\``), `the README's Layout section has no line for ${dir}/`);
  }
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

test('every relative link in the READMEs and the configuration reference resolves', () => {
  const docs = [
    'README.md',
    'exporter/README.md',
    'remediator/README.md',
    'grafana/README.md',
    'deploy/CONFIGURATION.md',
    'deploy/image/README.md',
    'deploy/mixin/README.md',
    'deploy/swarm/README.md',
  ];
  const broken: string[] = [];
  for (const doc of docs) {
    // Code spans and blocks are not links.
    const text = read(doc)
      .replace(/```[\s\S]*?```/g, '')
      .replace(/`[^`\n]*`/g, (span) => (span.includes('](') ? span : '``'));
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const file = path === '' ? join(repo, doc) : join(repo, dirname(doc), path);
      if (!existsSync(file)) {
        broken.push(`${doc}: ${target} (no such file)`);
        continue;
      }
      if (anchor && file.endsWith('.md')) {
        const headings = readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => /^#{1,6} /.test(l))
          .map((l) => slug(l.replace(/^#+ /, '')));
        if (!headings.includes(anchor)) broken.push(`${doc}: ${target} (no heading #${anchor})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
