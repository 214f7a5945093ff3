// The README is the reference for config keys and metrics: keep it complete as the code changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCommands } from '../../../shared/cli/main.js';
import { sharedSections } from '../../../shared/config/shared-sections.js';
import { envNameFor } from '../../../shared/config/scalar-field.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const readme = readFileSync(join(repo, 'README.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every configuration key and its environment variable is in the README', async () => {
  const commands = await loadCommands();
  for (const section of [...sharedSections, ...commands.flatMap((c) => c.sections)]) {
    for (const key of Object.keys(section.scalars)) {
      assert.ok(readme.includes(`\`${section.key}.${key}\``), `${section.key}.${key} missing`);
      assert.ok(readme.includes(envNameFor(`${section.key}.${key}`)), `${envNameFor(`${section.key}.${key}`)} missing`);
    }
  }
});

test('every metric the code can publish is in the README', () => {
  const names = new Set<string>();
  for (const file of [...sources(join(repo, 'exporter')), ...sources(join(repo, 'remediator'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/['"](sentinel_[a-z_]+)['"]/g)) names.add(m[1]!);
  }
  assert.ok(names.size > 50, `found only ${names.size} metric names: the scan is broken`);
  const missing = [...names].filter((n) => !readme.includes(`\`${n}\``));
  assert.deepEqual(missing, []);
});

test('the quick start has the two commands, and CI runs the README test command', async () => {
  const quick = readme.split('## Quick start')[1]!.split('\n## ')[0]!;
  const block = quick.match(/```sh\n([\s\S]*?)```/)![1]!.trim().split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
  assert.deepEqual(block, ['bash deploy/demo/run-demo.sh', 'npm test']);
  assert.match(readFileSync(join(repo, '.ci/run'), 'utf8'), /^exec npm test/m);
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.test, 'bash test/run-all.sh');
  for (const cmd of await loadCommands()) assert.ok(readme.includes(`ollama-sentinel ${cmd.name}`), `command ${cmd.name} undocumented`);
});
