import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { checkSbom, type SbomInputs } from '../../../../deploy/image/check-sbom.js';
import { repoPath } from '../../../helpers/repo-path.js';

interface Sbom {
  bomFormat: string;
  metadata: { component: { purl: string } };
  components: { name: string; version: string; purl: string }[];
}
const packageJson = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as SbomInputs['packageJson'];
const packageLock = JSON.parse(readFileSync(repoPath('package-lock.json'), 'utf8')) as SbomInputs['packageLock'];

/** A real SBOM of this checkout, as build-local-image.sh makes it (npm sbom reads node_modules: no network). */
async function npmSbom(...args: string[]): Promise<string> {
  const r = await execa('npm', ['sbom', ...args], { cwd: repoPath('.'), reject: false });
  assert.equal(r.exitCode, 0, `npm sbom ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}
const shipped = await npmSbom('--sbom-format', 'cyclonedx', '--sbom-type', 'application', '--omit', 'dev');
const withDev = await npmSbom('--sbom-format', 'cyclonedx', '--sbom-type', 'application');
const check = (sbom: unknown) => checkSbom({ sbom, packageJson, packageLock });
const edited = (edit: (s: Sbom) => void): Sbom => {
  const s = JSON.parse(shipped) as Sbom;
  edit(s);
  return s;
};

describe('checkSbom', () => {
  it('accepts npm sbom --omit dev of this checkout: every runtime dependency at its locked version', () => {
    const report = check(JSON.parse(shipped));
    assert.deepEqual(report.errors, []);
    const deps = Object.keys((packageJson as { dependencies: object }).dependencies);
    assert.ok(deps.includes('express') && deps.includes('prom-client'));
    assert.deepEqual(
      report.runtime.map((id) => id.slice(0, id.lastIndexOf('@'))),
      deps,
    );
    const names = (JSON.parse(shipped) as Sbom).components.map((c) => c.name);
    for (const dev of ['typescript', 'eslint', 'prettier']) assert.ok(!names.includes(dev), `${dev} listed`);
  });

  it('rejects the SBOM with development packages, naming the direct ones first', () => {
    const names = (JSON.parse(withDev) as Sbom).components.map((c) => c.name);
    assert.ok(names.includes('typescript'), 'npm sbom without --omit dev should list typescript');
    const { errors } = check(JSON.parse(withDev));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /development-only package\(s\) \((@eslint\/js|@types|eslint|prettier|typescript)/);
    assert.match(errors[0]!, /--omit dev/);
  });

  it('names a runtime dependency the SBOM leaves out', () => {
    const version = packageLock.packages!['node_modules/express']!.version!;
    const { errors } = check(edited((s) => (s.components = s.components.filter((c) => c.name !== 'express'))));
    assert.deepEqual(errors.length, 1);
    assert.match(errors[0]!, new RegExp(`runtime dependency express@${version.replaceAll('.', '\\.')} is missing`));
  });

  it('rejects an SBOM of another version of the package', () => {
    const { errors } = check(edited((s) => (s.metadata.component.purl = 'pkg:npm/ollama-sentinel@0.0.1')));
    assert.match(errors.join('\n'), /another package or version/);
  });

  it('rejects SPDX and non-SBOM documents, listing every problem at once', async () => {
    const spdx = check(JSON.parse(await npmSbom('--sbom-format', 'spdx', '--omit', 'dev')));
    assert.match(spdx.errors.join('\n'), /not "CycloneDX"/);
    const nothing = check([]);
    assert.equal(nothing.errors.length, 4, nothing.errors.join('\n'));
  });
});

describe('check-sbom-main.js', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-sbom-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const main = repoPath('dist/deploy/image/check-sbom-main.js');
  const run = (...args: string[]) => execa('node', [main, ...args], { reject: false, all: true });

  it('exits 0 on the shipped SBOM, 1 listing the problems of a wrong one, 2 without a file', async () => {
    writeFileSync(join(dir, 'ok.cdx.json'), shipped);
    writeFileSync(join(dir, 'dev.cdx.json'), withDev);
    const ok = await run(join(dir, 'ok.cdx.json'), '--root', repoPath('.'));
    assert.equal(ok.exitCode, 0, ok.all);
    assert.match(ok.all ?? '', /express@\S+ .*prom-client@/);
    const bad = await run(join(dir, 'dev.cdx.json'));
    assert.equal(bad.exitCode, 1);
    assert.match(bad.all ?? '', /is not the SBOM of what ships:\n {2}lists \d+ development-only/);
    const missing = await run(join(dir, 'absent.json'));
    assert.equal(missing.exitCode, 1);
    assert.match(missing.all ?? '', /the SBOM .*absent\.json is unreadable or not JSON/);
    const none = await run();
    assert.equal(none.exitCode, 2);
    assert.match(none.all ?? '', /usage:/);
  });
});
