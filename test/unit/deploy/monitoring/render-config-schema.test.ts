// deploy/config.schema.json (generated from the config sections): editors validate sentinel.yaml with it, so it must
// accept every shipped config and reject what loadConfig rejects for type, key, bound and enum.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { configSections } from '../../../../deploy/monitoring/render-config-reference.js';
import { renderConfigSchema } from '../../../../deploy/monitoring/render-config-schema.js';
import { DURATION_PATTERN } from '../../../../deploy/monitoring/config-list-schemas.js';
import { parseDuration } from '../../../../shared/config/parse-duration.js';
import { repoPath } from '../../../helpers/repo-path.js';
import { validateJsonSchema } from '../../../helpers/validate-json-schema.js';

const sections = await configSections();
const schemaText = readFileSync(repoPath('deploy/config.schema.json'), 'utf8');
const schema = JSON.parse(schemaText) as Record<string, unknown>;
const yamlOf = (path: string) => parse(readFileSync(repoPath(path), 'utf8')) as Record<string, unknown>;
const example = yamlOf('deploy/config.example.yaml');
const errorsOf = (doc: unknown) => validateJsonSchema(schema, doc);

describe('config schema', () => {
  it('is what the config sections generate, draft-07', () => {
    assert.equal(schemaText, renderConfigSchema(sections), 'stale: run node dist/deploy/monitoring/generate.js');
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  });

  it('is named by the yaml-language-server line heading the example and demo configs', () => {
    for (const [path, ref] of [
      ['deploy/config.example.yaml', './config.schema.json'],
      ['deploy/demo/demo.yaml', '../config.schema.json'],
    ] as const)
      assert.equal(readFileSync(repoPath(path), 'utf8').split('\n')[0], `# yaml-language-server: $schema=${ref}`);
  });

  it('accepts the shipped configs', () => {
    for (const path of [
      'deploy/config.example.yaml',
      'deploy/demo/demo.yaml',
      'deploy/examples/init/sentinel.yaml',
      'deploy/alertmanager/remediator.example.yaml',
      'deploy/swarm/fleet-sentinel.yaml',
    ])
      assert.deepEqual(errorsOf(yamlOf(path)), [], path);
  });

  it('describes every scalar with its default', () => {
    const props = schema.properties as Record<string, { properties: Record<string, { default?: unknown }> }>;
    for (const s of sections)
      for (const [key, field] of Object.entries(s.scalars))
        assert.equal(props[s.key]!.properties[key]!.default, field.default, `${s.key}.${key}`);
  });

  it('rejects a wrong type, an unknown key, an out-of-range number and a bad enum value', () => {
    const withFields = sections.flatMap((s) => Object.entries(s.scalars).map(([k, f]) => ({ s: s.key, k, f })));
    const bounded = withFields.find((x) => x.f.kind === 'int' && x.f.max !== undefined)!;
    const enumerated = withFields.find((x) => x.f.kind === 'enum')!;
    const broken: [string, Record<string, unknown>][] = [
      ['wrong type', { ...example, [bounded.s]: { [bounded.k]: 'many' } }],
      ['unknown top-level key', { ...example, exporterr: {} }],
      ['unknown section key', { ...example, gpu: { intervall: '15s' } }],
      ['unknown key in ollama[]', { ...example, ollama: [{ name: 'main', urll: 'http://x' }] }],
      ['out-of-range number', { ...example, [bounded.s]: { [bounded.k]: bounded.f.max! + 1 } }],
      ['bad enum', { ...example, [enumerated.s]: { [enumerated.k]: 'no-such-value' } }],
      ['bad duration', { ...example, gpu: { interval: '15 seconds' } }],
      ['keep_alive that is no Go duration', { ...example, models: [{ name: 'm', keep_alive: '1d' }] }],
      ['unknown ladder step', { ...example, remediator: { rules: [{ name: 'r', ladder: ['reboot'] }] } }],
      ['two container kinds', { ...example, ollama: [{ name: 'a', container: { name: 'x', compose: {} } }] }],
    ];
    for (const [what, doc] of broken) assert.notDeepEqual(errorsOf(doc), [], `${what} was accepted`);
  });

  it('reads durations exactly as parseDuration does', () => {
    const re = new RegExp(DURATION_PATTERN, 'u');
    for (const text of [
      '15s',
      '500ms',
      '1h30m',
      '2m',
      '90',
      '1.5',
      ' 5s ',
      '1m1ms',
      '15 s',
      '1d',
      '1w2d',
      '1y',
      's',
      '',
      '1h-5m',
      '-1s',
    ])
      assert.equal(re.test(text), parseDuration(text) !== null, JSON.stringify(text));
  });
});
