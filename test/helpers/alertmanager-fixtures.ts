import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Reads a webhook body captured from a real Alertmanager (test/fixtures/alertmanager). */
export function amFixture(name: string): Record<string, unknown> {
  // Compiled to dist/test/helpers/: the fixtures stay in the source tree.
  const path = fileURLToPath(new URL(`../../../test/fixtures/alertmanager/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

export function amFixtureText(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../../test/fixtures/alertmanager/${name}`, import.meta.url)), 'utf8');
}
