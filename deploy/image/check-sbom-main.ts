import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSbom, type SbomInputs } from './check-sbom.js';

const USAGE = 'usage: check-sbom-main.js SBOM.json [--root DIR]  (DIR: where package.json and package-lock.json are)';

/**
 * `node dist/deploy/image/check-sbom-main.js SBOM [--root DIR]`: exits 0 when the SBOM describes the package in DIR
 * (default: this repository) as it ships, 1 listing every problem, 2 on bad arguments.
 */
function main(argv: readonly string[]): number {
  const rootAt = argv.indexOf('--root');
  const root =
    rootAt >= 0 && argv[rootAt + 1] ? resolve(argv[rootAt + 1]!) : fileURLToPath(new URL('../../../', import.meta.url));
  const files = argv.filter((_, i) => rootAt < 0 || (i !== rootAt && i !== rootAt + 1));
  if (files.length !== 1 || files[0]!.startsWith('-')) {
    process.stderr.write(
      `check-sbom: ${files.length === 0 ? 'no SBOM file given' : `unexpected ${files.join(' ')}`}\n${USAGE}\n`,
    );
    return 2;
  }
  const file = files[0]!;
  const json = (path: string, what: string): unknown => {
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`${what} ${path} is unreadable or not JSON (${(e as Error).message})`, { cause: e });
    }
  };
  let inputs: SbomInputs;
  try {
    inputs = {
      sbom: json(file, 'the SBOM'),
      packageJson: json(join(root, 'package.json'), 'package.json') as SbomInputs['packageJson'],
      packageLock: json(join(root, 'package-lock.json'), 'package-lock.json') as SbomInputs['packageLock'],
    };
  } catch (e) {
    process.stderr.write(`check-sbom: ${(e as Error).message}\n`);
    return 1;
  }
  const report = checkSbom(inputs);
  if (report.errors.length > 0) {
    process.stderr.write(
      `check-sbom: ${file} is not the SBOM of what ships:\n${report.errors.map((e) => `  ${e}\n`).join('')}`,
    );
    return 1;
  }
  process.stdout.write(
    `check-sbom: ${file}: CycloneDX, ${report.components} components, no development-only package; runtime dependencies ${report.runtime.join(' ')}\n`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
