import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoTime, parsePsResponse } from '../../../../shared/ollama/parse-ps.js';
import { parseTagsResponse } from '../../../../shared/ollama/parse-tags.js';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');

test('parses /api/ps with nanosecond times, zones and optional context_length', () => {
  const models = parsePsResponse(
    {
      models: [
        {
          name: 'gpt-oss:20b',
          model: 'gpt-oss:20b',
          size: 14_000_000_000,
          size_vram: 14_000_000_000,
          digest: 'd1',
          details: { family: 'gptoss' },
          expires_at: '2026-11-25T13:00:00.123456789+01:00',
          context_length: 8192,
        },
        {
          name: 'llama3:latest',
          model: 'llama3:latest',
          size: 6e9,
          size_vram: 0,
          digest: 'd2',
          expires_at: '2026-11-25T11:59:30Z',
        },
      ],
    },
    NOW,
  );
  assert.equal(models.length, 2);
  const [a, b] = models as [(typeof models)[0], (typeof models)[0]];
  assert.equal(a.expiresAtMs, NOW + 123);
  assert.equal(a.expiresInSeconds, 0.123);
  assert.equal(a.stopping, false);
  assert.equal(a.context_length, 8192);
  assert.deepEqual(a.details, { family: 'gptoss' });
  assert.equal(b.stopping, true, 'expires_at in the past = Stopping');
  assert.equal(b.expiresInSeconds, -30);
  assert.equal('context_length' in b, false, 'older servers omit it');
  assert.equal(b.size_vram, 0);
});

test('a model pinned forever expires centuries ahead', () => {
  const [m] = parsePsResponse(
    { models: [{ name: 'x:latest', size: 1, size_vram: 1, expires_at: '2318-03-01T10:00:00.5Z' }] },
    NOW,
  );
  assert.ok(m!.expiresInSeconds! > 250 * 365 * 86400);
});

test('null or empty lists are no models; broken shapes are bad_json', () => {
  assert.deepEqual(parsePsResponse({ models: null }, NOW), []);
  assert.deepEqual(parsePsResponse({ models: [] }, NOW), []);
  assert.throws(() => parsePsResponse({}, NOW), { reason: 'bad_json' });
  assert.throws(() => parsePsResponse('nope', NOW), { reason: 'bad_json' });
  assert.throws(() => parsePsResponse({ models: [{ size: 1 }] }, NOW), { reason: 'bad_json' });
});

test('parseGoTime rejects garbage and the zero time', () => {
  assert.equal(parseGoTime('0001-01-01T00:00:00Z'), undefined);
  assert.equal(parseGoTime('yesterday'), undefined);
  assert.equal(parseGoTime('2026-11-25T12:00:00Z'), NOW);
});

test('parses /api/tags', () => {
  const tags = parseTagsResponse({
    models: [
      {
        name: 'llama3:latest',
        model: 'llama3:latest',
        size: 4_661_224_676,
        digest: 'abc',
        modified_at: '2026-01-01T00:00:00Z',
        details: { family: 'llama' },
      },
      {
        name: 'gpt-oss:120b-cloud',
        model: 'gpt-oss:120b-cloud',
        size: 384,
        digest: 'def',
        remote_host: 'https://ollama.com:443',
      },
    ],
  });
  assert.equal(tags.length, 2);
  assert.equal(tags[0]!.size, 4_661_224_676);
  assert.equal(tags[1]!.remote_host, 'https://ollama.com:443');
  assert.throws(() => parseTagsResponse({ models: [42] }), { reason: 'bad_json' });
});
