import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../../../../shared/cli/parse-command-line.js';

const opts = {
  config: { kind: 'string', doc: '' },
  update: { kind: 'bool', doc: '' },
  target: { kind: 'list', doc: '' },
} as const;

test('command options, dotted config overrides and positionals are told apart', () => {
  const p = parseCommandLine(
    [
      '--config',
      'a.yaml',
      '--update',
      '--target=a,b',
      '--target',
      'c',
      '--gpu.interval=5s',
      '--exporter.listen-address',
      ':9000',
      '--exporter.node_metrics',
      'x',
    ],
    opts,
  );
  assert.deepEqual(p.errors, []);
  assert.equal(p.options.get('config'), 'a.yaml');
  assert.equal(p.options.get('update'), true);
  assert.deepEqual(p.options.get('target'), ['a', 'b', 'c']);
  assert.equal(p.overrides.get('gpu.interval'), '5s');
  assert.equal(p.overrides.get('exporter.listen_address'), ':9000');
  assert.equal(p.overrides.get('exporter.node_metrics'), 'x', 'a following non-flag word is the value');
});

test('unknown options and missing values are reported', () => {
  const p = parseCommandLine(['--nope', '--config'], opts);
  assert.equal(p.errors.length, 2);
  assert.match(p.errors[0]!, /unknown option --nope/);
  assert.match(p.errors[1]!, /--config needs a value/);
});
