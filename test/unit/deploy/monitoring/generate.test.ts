import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { monitoringConfig } from '../../../../deploy/monitoring/monitoring-config.js';
import { renderArtefacts } from '../../../../deploy/monitoring/render-artefacts.js';
import { repoPath } from '../../../helpers/repo-path.js';
import { configSections } from '../../../../deploy/monitoring/render-config-reference.js';

const sections = await configSections();

const generator = repoPath('dist/deploy/monitoring/generate.js');
const run = (...args: string[]) => execa('node', [generator, ...args], { reject: false, all: true });

describe('generate.js', () => {
  const root = mkdtempSync(join(tmpdir(), 'sentinel-generate-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const paths = [...renderArtefacts(monitoringConfig, sections).keys()];

  it('--check fails on an empty tree, naming every missing file, and writes nothing', async () => {
    const r = await run('--check', '--root', root);
    assert.equal(r.exitCode, 1);
    for (const p of paths) assert.match(r.all ?? '', new RegExp(`${p.replaceAll('.', '\\.')}: missing`));
    for (const p of paths) assert.ok(!existsSync(join(root, p)), `--check wrote ${p}`);
  });

  it('writes every file, after which --check passes', async () => {
    const w = await run('--root', root);
    assert.equal(w.exitCode, 0, w.all);
    for (const p of paths)
      assert.equal(readFileSync(join(root, p), 'utf8'), renderArtefacts(monitoringConfig, sections).get(p));
    const c = await run('--check', '--root', root);
    assert.equal(c.exitCode, 0, c.all);
  });

  it('--check fails on a hand edit of a generated file and names only that file', async () => {
    const edited = 'deploy/prometheus/ollama-sentinel.rules.yml';
    writeFileSync(join(root, edited), readFileSync(join(root, edited), 'utf8').replace('for: 5m', 'for: 1m'));
    const r = await run('--check', '--root', root);
    assert.equal(r.exitCode, 1);
    assert.match(r.all ?? '', /ollama-sentinel\.rules\.yml: differs/);
    assert.doesNotMatch(r.all ?? '', /dashboards\/.*: differs/);
  });

  it('refuses unknown arguments', async () => {
    const r = await run('--chek');
    assert.equal(r.exitCode, 2);
    assert.match(r.all ?? '', /unknown argument/);
  });
});
