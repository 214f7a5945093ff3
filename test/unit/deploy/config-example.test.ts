// deploy/config.example.yaml is a commented copy of the config sections: these tests keep it from disagreeing with
// them. Meanings are not copied (deploy/CONFIGURATION.md is generated from the doc strings); what the example does
// state — keys, values, value lists, defaults, env/flag and metric names — is checked against the definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { configSections } from '../../../deploy/monitoring/render-config-reference.js';
import { loadCommands } from '../../../shared/cli/main.js';
import { loadConfig } from '../../../shared/config/load-config.js';
import { envNameFor, flagNameFor } from '../../../shared/config/scalar-field.js';
import { parseScalar, type ScalarField } from '../../../shared/config/scalar-field.js';
import { exporterMetricNames } from '../../helpers/exporter-metric-names.js';

const example = fileURLToPath(new URL('../../../../deploy/config.example.yaml', import.meta.url));
const text = readFileSync(example, 'utf8');
const sections = await configSections();

interface Shown {
  readonly key: string;
  readonly line: number;
  /** The YAML value after `key:` (null when none is written). */
  readonly value: unknown;
  /** The hint after the value (`# ...`), '' when none. */
  readonly hint: string;
}

/**
 * The scalar-looking lines of one top-level section, from `section:` to the next top-level key: `  key: value  # hint`
 * or, commented out, `  # key: value  # hint`. Deeper lines (lists, maps) are not the section's scalars.
 */
function shownIn(section: string): Shown[] {
  const lines = text.split('\n');
  const start = lines.indexOf(`${section}:`);
  if (start < 0) return [];
  const shown: Shown[] = [];
  for (let i = start + 1; i < lines.length && !/^[a-z_]+:/.test(lines[i]!); i++) {
    const m = lines[i]!.match(/^ {2}(?:#\s*)?([a-z][a-z0-9_]*):(\s.*)?$/);
    if (!m) continue;
    const doc = parseDocument(`v:${m[2] ?? ''}`);
    const pair = (
      doc.contents as {
        items: { key: { comment?: string | null }; value: { comment?: string | null; toJSON(): unknown } | null }[];
      }
    ).items[0]!;
    const hint = pair.value?.comment ?? pair.key.comment ?? doc.comment ?? '';
    shown.push({ key: m[1]!, line: i + 1, value: pair.value ? pair.value.toJSON() : null, hint: hint.trim() });
  }
  return shown;
}

function same(a: unknown, b: string | number | boolean, field: ScalarField): boolean {
  const x = parseScalar(a, field);
  const y = parseScalar(b, field);
  return x.ok && y.ok && x.value === y.value;
}

test('the commented example config is valid for every command, and documents every section', async () => {
  const commands = await loadCommands();
  const keys = commands.flatMap((c) => c.sections.map((s) => s.key));
  for (const cmd of commands) {
    const cfg = loadConfig({
      file: example,
      env: {},
      flags: new Map(),
      sections: cmd.sections,
      otherSectionKeys: keys,
    });
    assert.ok(cfg.ollama.length > 0 && cfg.models.length > 0, cmd.name);
  }
  for (const section of [...new Set(['log', 'gpu', 'docker', ...keys])])
    assert.match(text, new RegExp(`^${section}:`, 'm'), `section ${section} is missing from the example`);
  // Each scalar once, in its own section (a bare substring search let remediator.load_timeout pass on the exporter's
  // probe_load_timeout).
  for (const s of sections) {
    const shown = shownIn(s.key);
    for (const key of Object.keys(s.scalars)) {
      const n = shown.filter((x) => x.key === key).length;
      assert.equal(
        n,
        1,
        `${s.key}.${key} is shown ${n} times in the ${s.key}: block of the example (want once, set or as "# ${key}: <default>")`,
      );
    }
  }
});

test("every value the example shows is its key's default, or an example where the key has none", () => {
  for (const s of sections) {
    for (const { key, line, value } of shownIn(s.key)) {
      const field = s.scalars[key];
      if (!field) continue;
      const where = `config.example.yaml:${line} ${s.key}.${key}`;
      if (value === null) {
        assert.equal(
          field.default,
          undefined,
          `${where} shows no value, but its default is ${JSON.stringify(field.default)}: show it`,
        );
        continue;
      }
      const parsed = parseScalar(value, field);
      assert.ok(parsed.ok, `${where}: ${parsed.ok ? '' : parsed.problem}`);
      if (field.default !== undefined) {
        assert.ok(
          same(value, field.default, field),
          `${where} shows ${JSON.stringify(value)} but the default is ${JSON.stringify(field.default)}: the example shows defaults (change one of them)`,
        );
      }
    }
  }
});

test("the example's comments agree with the definitions: value lists, stated defaults, env, flag and metric names", async () => {
  for (const s of sections) {
    for (const { key, line, hint } of shownIn(s.key)) {
      const field = s.scalars[key];
      if (!field || hint === '') continue;
      const where = `config.example.yaml:${line} ${s.key}.${key}`;
      const list = hint.match(/[a-z_]+(?:\s*\|\s*[a-z_]+)+/);
      if (list && field.kind === 'enum')
        assert.deepEqual(
          list[0]
            .split('|')
            .map((v) => v.trim())
            .sort(),
          [...field.values!].sort(),
          `${where} lists other values than the section accepts`,
        );
      const claimed = hint.match(/\bdefault:?\s+([^\s,;)]+)/i);
      if (claimed && parseScalar(claimed[1], field).ok) {
        assert.ok(
          field.default !== undefined && same(claimed[1], field.default, field),
          `${where} says the default is ${claimed[1]}, the section says ${JSON.stringify(field.default)}`,
        );
      }
    }
  }
  const paths = sections.flatMap((s) => Object.keys(s.scalars).map((k) => `${s.key}.${k}`));
  const envs = new Set(['SENTINEL_CONFIG', ...paths.map(envNameFor)]);
  for (const [env] of text.matchAll(/\bSENTINEL_[A-Z0-9_]+/g))
    assert.ok(envs.has(env), `the example names ${env}, which no setting reads`);
  const aliases = (await loadCommands()).flatMap((c) => Object.keys(c.flagAliases ?? {}).map((a) => `--${a}`));
  const flags = new Set([...paths.flatMap((p) => [flagNameFor(p), `--${p}`]), ...aliases]);
  for (const [flag] of text.matchAll(/--[a-z]+(?:\.[a-z0-9_-]+)+/g))
    assert.ok(flags.has(flag), `the example names the flag ${flag}, which does not exist`);
  const metrics = exporterMetricNames();
  for (const [name] of text.matchAll(/\bsentinel_[a-z0-9_]+/g))
    assert.ok(metrics.has(name), `the example names the metric ${name}, which the exporter does not publish`);
});
