import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitoringConfig } from './monitoring-config.js';
import { renderArtefacts } from './render-artefacts.js';
import { configSections } from './render-config-reference.js';

/**
 * `node dist/deploy/monitoring/generate.js [--check] [--root DIR]`: writes the rules, runbook, dashboards and the
 * fleet's Prometheus and Alertmanager configs from monitoring-config.ts, and deploy/CONFIGURATION.md and
 * deploy/config.schema.json from the commands' config sections. With --check it writes nothing and exits 1 listing every file that differs from what the
 * config generates (CI runs it, like fastify's validator integrity check).
 */
async function main(argv: readonly string[]): Promise<number> {
  const check = argv.includes('--check');
  const rootAt = argv.indexOf('--root');
  // dist/deploy/monitoring/generate.js -> the repository root.
  const root =
    rootAt >= 0 && argv[rootAt + 1] ? resolve(argv[rootAt + 1]!) : fileURLToPath(new URL('../../../', import.meta.url));
  const unknown = argv.filter((a, i) => a !== '--check' && a !== '--root' && !(rootAt >= 0 && i === rootAt + 1));
  if (unknown.length > 0) {
    process.stderr.write(
      `generate: unknown argument(s) ${unknown.join(' ')}\nusage: generate.js [--check] [--root DIR]\n`,
    );
    return 2;
  }
  const stale: string[] = [];
  for (const [path, content] of renderArtefacts(monitoringConfig, await configSections())) {
    const file = join(root, path);
    let current: string | undefined;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    if (check) {
      stale.push(`${path}: ${current === undefined ? 'missing' : 'differs from what its source generates'}`);
    } else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      process.stdout.write(`generate: wrote ${path}\n`);
    }
  }
  if (stale.length > 0) {
    process.stderr.write(
      `generate --check: generated files are out of date:\n${stale.map((s) => `  ${s}`).join('\n')}\nrun: npx tsc -p tsconfig.json && node dist/deploy/monitoring/generate.js, then commit the result\n`,
    );
    return 1;
  }
  if (check) process.stdout.write('generate --check: every generated file is up to date\n');
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
