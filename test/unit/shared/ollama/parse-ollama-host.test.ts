import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOllamaHost } from '../../../../shared/ollama/parse-ollama-host.js';

test('empty value is the local default', () => {
  assert.equal(parseOllamaHost('').url, 'http://127.0.0.1:11434');
  assert.equal(parseOllamaHost('  ').url, 'http://127.0.0.1:11434');
});

test('no scheme means http and port 11434', () => {
  assert.deepEqual(parseOllamaHost('ollama'), {
    url: 'http://ollama:11434',
    protocol: 'http',
    hostname: 'ollama',
    port: 11434,
    path: '',
  });
  assert.equal(parseOllamaHost('ollama:8080').url, 'http://ollama:8080');
});

test('an explicit scheme defaults to its well-known port, as in Ollama', () => {
  assert.equal(parseOllamaHost('http://ollama').port, 80);
  assert.equal(parseOllamaHost('https://ollama.example.com').url, 'https://ollama.example.com:443');
  assert.equal(parseOllamaHost('HTTPS://proxy:8443').url, 'https://proxy:8443');
});

test('bind-all addresses become loopback for connecting', () => {
  assert.equal(parseOllamaHost('0.0.0.0:11434').url, 'http://127.0.0.1:11434');
  assert.equal(parseOllamaHost('0.0.0.0').url, 'http://127.0.0.1:11434');
  assert.equal(parseOllamaHost('[::]:11434').url, 'http://127.0.0.1:11434');
  assert.equal(parseOllamaHost('::').url, 'http://127.0.0.1:11434');
  assert.equal(parseOllamaHost(':11500').url, 'http://127.0.0.1:11500');
});

test('IPv6 addresses are bracketed in the URL', () => {
  const h = parseOllamaHost('[::1]:12000');
  assert.equal(h.hostname, '::1');
  assert.equal(h.url, 'http://[::1]:12000');
  assert.equal(parseOllamaHost('::1').url, 'http://[::1]:11434');
});

test('a path is kept without trailing slash', () => {
  const h = parseOllamaHost('https://gateway.local/ollama/v1/');
  assert.equal(h.path, 'ollama/v1');
  assert.equal(h.url, 'https://gateway.local:443/ollama/v1');
  assert.equal(parseOllamaHost('127.0.0.1:11434/').url, 'http://127.0.0.1:11434');
});

test('invalid values throw with a clear message', () => {
  assert.throws(() => parseOllamaHost('ftp://ollama'), /unsupported scheme "ftp"/);
  assert.throws(() => parseOllamaHost('ollama:99999'), /invalid port "99999"/);
  assert.throws(() => parseOllamaHost('ollama:abc'), /invalid port "abc"/);
  assert.throws(() => parseOllamaHost('ollama:0'), /invalid port/);
  assert.throws(() => parseOllamaHost('[::1:11434'), /unclosed/);
  assert.throws(() => parseOllamaHost('fe80::1:11434:x'), /IPv6|port|valid/);
  assert.throws(() => parseOllamaHost('bad host:1'), /not a valid host/);
  assert.throws(() => parseOllamaHost('http://ollama/a?b=1'), /query/);
});
