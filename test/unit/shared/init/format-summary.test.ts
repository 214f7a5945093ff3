import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSummary } from '../../../../shared/init/format-summary.js';
import type { TargetOutcome } from '../../../../shared/init/init-outcome.js';

test('lists per target and model what happened and how long it took', () => {
  const targets: TargetOutcome[] = [
    {
      target: 'main',
      url: 'http://127.0.0.1:11434',
      wait: { ok: true, version: '0.12.6', attempts: 3, waitedMs: 4_200 },
      models: [
        {
          model: 'gpt-oss:20b',
          fetch: { ok: true, result: { model: 'gpt-oss:20b', action: 'pulled', durationMs: 192_000, attempts: 2 } },
          verify: {
            model: 'gpt-oss:20b',
            ok: true,
            offload: { ok: true, kind: 'gpu', ratio: 1 },
            loadMs: 12_300,
            generateMs: 400,
            durationMs: 13_000,
            wasResident: false,
            unloaded: false,
          },
        },
        {
          model: 'llama3:latest',
          fetch: { ok: true, result: { model: 'llama3:latest', action: 'present', durationMs: 3, attempts: 0 } },
        },
        {
          model: 'bot:latest',
          fetch: {
            ok: true,
            result: {
              model: 'bot:latest',
              action: 'created',
              durationMs: 64_100,
              attempts: 1,
              base: { model: 'llama3.2:3b', action: 'pulled', durationMs: 62_000, attempts: 1 },
            },
          },
          verify: {
            model: 'bot:latest',
            ok: false,
            stage: 'offload',
            problem: 'only 45% in VRAM',
            durationMs: 900,
            wasResident: false,
            unloaded: true,
          },
        },
        {
          model: 'nosuch:1b',
          fetch: {
            ok: false,
            stage: 'pull',
            problem: 'pull model manifest: file does not exist',
            permanent: true,
            attempts: 1,
            durationMs: 20,
          },
        },
      ],
    },
    {
      target: 'spare',
      url: 'http://127.0.0.1:11435',
      wait: { ok: false, attempts: 9, waitedMs: 300_000, problem: 'no answer within 5m00s: refused' },
      models: [],
    },
  ];
  assert.equal(
    formatSummary(targets, 3),
    [
      'init summary:',
      '  target main (http://127.0.0.1:11434): Ollama 0.12.6 up after 4.2s (3 attempts)',
      '    gpt-oss:20b    pulled in 3m12s (2 attempts); verified: 100% in VRAM, loaded in 12.3s, answered in 400ms, left loaded (keep_warm)',
      '    llama3:latest  present',
      '    bot:latest     created in 1m04s, base llama3.2:3b pulled in 1m02s; verification FAILED (offload): only 45% in VRAM, unloaded',
      '    nosuch:1b      pull FAILED after 1 attempt (permanent, not retried) in 20ms: pull model manifest: file does not exist',
      '  target spare (http://127.0.0.1:11435): UNREACHABLE: no answer within 5m00s: refused (9 attempts in 5m00s)',
      'init: exit 3 (Ollama unreachable before the deadline)',
      '',
    ].join('\n'),
  );
});

test('check mode and empty targets', () => {
  const text = formatSummary(
    [
      {
        target: 'a',
        url: 'http://127.0.0.1:1',
        wait: { ok: true, version: '0.1', attempts: 1, waitedMs: 1 },
        models: [],
      },
      {
        target: 'b',
        url: 'http://127.0.0.1:2',
        wait: { ok: true, version: '0.1', attempts: 1, waitedMs: 1 },
        models: [
          { model: 'x:1', check: { ok: true, durationMs: 1_500 } },
          { model: 'y:1', check: { ok: false, problem: 'not present', durationMs: 60_000 } },
        ],
      },
    ],
    6,
  );
  assert.match(text, /\n {4}\(no models configured for this target\)\n/);
  assert.match(text, /\n {4}x:1 {2}ready \(checked in 1\.5s\)\n/);
  assert.match(text, /\n {4}y:1 {2}NOT READY at the deadline: not present\n/);
  assert.match(text, /init: exit 6 \(--check not satisfied by the deadline\)\n$/);
});
