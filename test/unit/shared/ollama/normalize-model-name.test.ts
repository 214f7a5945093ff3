import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeModelName } from '../../../../shared/ollama/normalize-model-name.js';

test('adds the latest tag when none is given', () => {
  assert.equal(normalizeModelName('llama3'), 'llama3:latest');
  assert.equal(normalizeModelName('  gpt-oss:20b '), 'gpt-oss:20b');
});

test('drops the default registry and namespace like Ollama lists them', () => {
  assert.equal(normalizeModelName('library/llama3'), 'llama3:latest');
  assert.equal(normalizeModelName('registry.ollama.ai/library/llama3:8b'), 'llama3:8b');
  assert.equal(normalizeModelName('registry.ollama.ai/jmorgan/mymodel'), 'jmorgan/mymodel:latest');
});

test('keeps custom namespaces and hosts, including hosts with a port', () => {
  assert.equal(normalizeModelName('jmorgan/mymodel:v2'), 'jmorgan/mymodel:v2');
  assert.equal(
    normalizeModelName('hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M'),
    'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M',
  );
  assert.equal(normalizeModelName('localhost:5000/team/model'), 'localhost:5000/team/model:latest');
});

test('keeps a digest and does not mistake its colon for a tag', () => {
  const digest = 'sha256:' + 'ab'.repeat(32);
  assert.equal(normalizeModelName(`llama3@${digest}`), `llama3:latest@${digest}`);
  assert.equal(normalizeModelName(`llama3:8b@${digest}`), `llama3:8b@${digest}`);
});

test('is idempotent', () => {
  for (const n of ['llama3', 'a/b', 'h.io:1/a/b:c', 'x:y']) {
    const once = normalizeModelName(n);
    assert.equal(normalizeModelName(once), once);
  }
});

test('rejects malformed names with a message naming the input', () => {
  for (const bad of ['', '   ', 'llama 3', 'a/b/c/d', 'llama3:', ':8b', 'a//b', 'llama3@', 'llama3@nothex!']) {
    assert.throws(
      () => normalizeModelName(bad),
      (err: Error) => err instanceof Error && err.message.length > 0,
      bad,
    );
  }
  assert.throws(() => normalizeModelName('llama3:'), /llama3:/);
});
