import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnvFile } from '../../helpers/parse-env-file.js';

test('reads KEY=value lines and skips comments and blank lines', () => {
  const text =
    '# written by test-env.sh\n\nDOCKER_HOST=unix:///var/tmp/x/docker.sock\n  SENTINEL_TEST_REGISTRY=127.0.0.1:5000  \n';
  assert.deepEqual(parseEnvFile(text), {
    DOCKER_HOST: 'unix:///var/tmp/x/docker.sock',
    SENTINEL_TEST_REGISTRY: '127.0.0.1:5000',
  });
});

test('keeps everything after the first = and allows empty values', () => {
  assert.deepEqual(parseEnvFile('A=b=c\nEMPTY=\n'), { A: 'b=c', EMPTY: '' });
});

test('a later line wins, like sourcing the file', () => {
  assert.deepEqual(parseEnvFile('A=1\nA=2\n'), { A: '2' });
});

test('rejects a line that is not KEY=value, naming the line', () => {
  assert.throws(() => parseEnvFile('A=1\nexport B=2\n'), /line 2/);
  assert.throws(() => parseEnvFile('1A=x'), /not KEY=value/);
});
