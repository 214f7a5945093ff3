import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OllamaError } from '../../../../shared/ollama/ollama-error.js';
import { isPermanentFetchError } from '../../../../shared/provision/is-permanent-fetch-error.js';

const stream = (message: string) => new OllamaError('stream_error', message, { status: 200 });

test('an unknown model (HTTP 200 + error line) is permanent for pull', () => {
  assert.equal(isPermanentFetchError(stream('pull model manifest: file does not exist'), 'pull'), true);
  assert.equal(isPermanentFetchError(stream('pull model manifest: 401: {"errors":[{"code":"UNAUTHORIZED"}]}'), 'pull'), true);
  assert.equal(isPermanentFetchError(stream('manifest unknown'), 'pull'), true);
});

test('network trouble in the stream is retried for pull', () => {
  assert.equal(isPermanentFetchError(stream('max retries exceeded: EOF'), 'pull'), false);
  assert.equal(isPermanentFetchError(stream('digest mismatch, file must be downloaded again'), 'pull'), false);
});

test('create errors are permanent unless they look like a passing hiccup', () => {
  assert.equal(isPermanentFetchError(stream("model 'llama9' not found"), 'create'), true);
  assert.equal(isPermanentFetchError(stream("neither 'from' or 'files' was specified"), 'create'), true);
  assert.equal(isPermanentFetchError(stream('max retries exceeded: EOF'), 'create'), false);
});

test('HTTP 4xx is permanent except 408 and 429; 5xx is retried', () => {
  assert.equal(isPermanentFetchError(new OllamaError('http_400', 'invalid model name', { status: 400 }), 'pull'), true);
  assert.equal(isPermanentFetchError(new OllamaError('http_404', 'not found', { status: 404 }), 'show'), true);
  assert.equal(isPermanentFetchError(new OllamaError('http_408', 'timeout', { status: 408 }), 'pull'), false);
  assert.equal(isPermanentFetchError(new OllamaError('http_429', 'slow down', { status: 429 }), 'pull'), false);
  assert.equal(isPermanentFetchError(new OllamaError('http_500', 'boom', { status: 500 }), 'pull'), false);
  assert.equal(isPermanentFetchError(new OllamaError('http_503', 'server busy', { status: 503 }), 'create'), false);
});

test('transport failures are retried; configuration and TLS problems are not', () => {
  for (const reason of ['refused', 'reset', 'stalled', 'truncated', 'timeout', 'bad_json', 'network', 'dns', 'unreachable']) {
    assert.equal(isPermanentFetchError(new OllamaError(reason, reason), 'pull'), false, reason);
  }
  assert.equal(isPermanentFetchError(new OllamaError('config', 'cannot read ca_file'), 'pull'), true);
  assert.equal(isPermanentFetchError(new OllamaError('tls', 'self-signed certificate'), 'pull'), true);
});

test('errors that are not OllamaError are retried', () => {
  assert.equal(isPermanentFetchError(new Error('file does not exist'), 'pull'), false);
  assert.equal(isPermanentFetchError('weird', 'pull'), false);
});
