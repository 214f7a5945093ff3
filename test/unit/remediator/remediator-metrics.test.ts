import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RemediatorMetrics } from '../../../remediator/remediator-metrics.js';
import { checkMetricNames } from '../../lint/metric-name-rules.js';

describe('remediator metrics', () => {
  it('follow the project naming rules and live in their own registry', async () => {
    const m = new RemediatorMetrics('1.2.3');
    m.actions.inc({ action: 'restart_container', result: 'done' });
    m.stepDuration.observe({ action: 'restart_container' }, 12);
    m.lastAction.set({ target: 'main', action: 'restart_container' }, 1);
    m.skips.inc({ reason: 'cooldown' });
    const text = await m.registry.metrics();
    assert.deepEqual(checkMetricNames(text), []);
    assert.match(
      text,
      /sentinel_remediator_build_info\{version="1.2.3",revision="unknown",branch="unknown",nodejs_version="v[\d.]+"\} 1/,
    );
    const built = await new RemediatorMetrics({
      version: '1.2.3',
      revision: 'abc123',
      branch: 'main',
    }).registry.metrics();
    assert.match(
      built,
      /sentinel_remediator_build_info\{version="1.2.3",revision="abc123",branch="main",nodejs_version=/,
    );
    assert.equal(
      new RemediatorMetrics().registry.getMetricsAsArray().length,
      m.registry.getMetricsAsArray().length,
      'two instances do not collide',
    );
  });

  it('publish whether the TLS certificate follows its files, only when serving TLS', async () => {
    const m = new RemediatorMetrics();
    assert.doesNotMatch(await m.registry.metrics(), /tls/);
    let status = { reloadErrors: 0, lastReloadOk: true };
    m.watchTls(() => status);
    assert.match(await m.registry.metrics(), /^sentinel_remediator_tls_reload_success 1$/m);
    status = { reloadErrors: 2, lastReloadOk: false };
    const text = await m.registry.metrics();
    assert.match(text, /^sentinel_remediator_tls_reload_success 0$/m);
    assert.match(text, /^sentinel_remediator_tls_reload_errors_total 2$/m);
    assert.deepEqual(checkMetricNames(text), []);
  });
});
