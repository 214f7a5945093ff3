import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLogfmt } from '../../../../shared/log/format-logfmt.js';

test('formatLogfmt: time, level and message first, the rest in order; quoting only where logfmt needs it', () => {
  assert.equal(
    formatLogfmt({
      level: 'warn',
      time: '2026-12-07T03:50:00.000Z',
      service: 'ollama-sentinel',
      msg: 'cannot resolve the containers of an Ollama target',
      target: 'main',
      err: 'connect ENOENT /var/run/docker.sock',
      attempt: 3,
      ok: false,
      checks: { docker: 'unreachable' },
      empty: '',
      quote: 'say "hi"',
      eq: 'a=b',
      missing: undefined,
      nothing: null,
    }),
    'ts=2026-12-07T03:50:00.000Z level=warn msg="cannot resolve the containers of an Ollama target" ' +
      'service=ollama-sentinel target=main err="connect ENOENT /var/run/docker.sock" attempt=3 ok=false ' +
      'checks="{\\"docker\\":\\"unreachable\\"}" empty="" quote="say \\"hi\\"" eq="a=b" nothing=null\n',
  );
});

test('formatLogfmt: a newline in a value stays on one line', () => {
  assert.equal(formatLogfmt({ time: 't', level: 'error', msg: 'two\nlines' }), 'ts=t level=error msg="two\\nlines"\n');
});
