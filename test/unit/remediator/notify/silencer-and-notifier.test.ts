import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertmanagerSilencer } from '../../../../remediator/notify/alertmanager-silencer.js';
import { webhookNotifier } from '../../../../remediator/notify/webhook-notifier.js';
import { localHttp } from '../../../helpers/local-http.js';

describe('Alertmanager silencer (API v2)', () => {
  it('creates a silence with equality matchers and deletes it by id; label values stay data', async () => {
    const am = await localHttp((req, res) => {
      if (req.method === 'POST')
        res.setHeader('content-type', 'application/json').end('{"silenceID":"6f1d0a2c-0000-4000-8000-000000000001"}');
      else res.writeHead(req.url.endsWith('gone') ? 404 : 200).end();
    });
    try {
      const s = alertmanagerSilencer(am.url, { bearerToken: 't0k', now: () => Date.parse('2026-06-01T00:00:00Z') });
      const id = await s.create(
        {
          matchers: [{ name: 'ollama', value: 'main"; rm -rf /' }],
          endsAt: Date.parse('2026-06-01T00:30:00Z'),
          comment: 'healing inc-1',
        },
        AbortSignal.timeout(5000),
      );
      assert.equal(id, '6f1d0a2c-0000-4000-8000-000000000001');
      const post = am.requests[0]!;
      assert.equal(post.url, '/api/v2/silences');
      assert.equal(post.headers.authorization, 'Bearer t0k');
      assert.deepEqual(JSON.parse(post.body), {
        matchers: [{ name: 'ollama', value: 'main"; rm -rf /', isRegex: false, isEqual: true }],
        startsAt: '2026-06-01T00:00:00.000Z',
        endsAt: '2026-06-01T00:30:00.000Z',
        createdBy: 'ollama-sentinel remediator',
        comment: 'healing inc-1',
      });
      await s.remove(id, AbortSignal.timeout(5000));
      assert.equal(am.requests[1]!.method, 'DELETE');
      assert.equal(am.requests[1]!.url, `/api/v2/silence/${id}`);
      await s.remove('gone', AbortSignal.timeout(5000)); // already expired: fine
    } finally {
      await am.close();
    }
  });

  it('reports a refused silence', async () => {
    const am = await localHttp((_req, res) => res.writeHead(400).end('bad matchers'));
    try {
      const s = alertmanagerSilencer(am.url, { now: () => 0 });
      await assert.rejects(
        s.create({ matchers: [{ name: 'a', value: 'b' }], endsAt: 60_000, comment: '' }, AbortSignal.timeout(5000)),
        /HTTP 400 bad matchers/,
      );
    } finally {
      await am.close();
    }
  });
});

describe('notification webhook', () => {
  it('posts the event as JSON with a readable text line', async () => {
    const hook = await localHttp((_req, res) => res.end('ok'));
    try {
      const n = webhookNotifier(`${hook.url}/hook`, {});
      await n.send(
        { event: 'breaker_tripped', at: '2026-06-01T00:00:00.000Z', detail: '5 actions within 3600 s' },
        AbortSignal.timeout(5000),
      );
      const body = JSON.parse(hook.requests[0]!.body) as Record<string, unknown>;
      assert.equal(body.event, 'breaker_tripped');
      assert.equal(body.text, '[ollama-sentinel] breaker_tripped: 5 actions within 3600 s');
    } finally {
      await hook.close();
    }
  });
});
