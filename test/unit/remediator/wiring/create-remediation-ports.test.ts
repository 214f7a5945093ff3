import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionDeps } from '../../../../remediator/actions/action.js';
import { readExporterObservation } from '../../../../remediator/engine/read-exporter-observation.js';
import { createRemediationPorts, onOurClock } from '../../../../remediator/wiring/create-remediation-ports.js';
import { createLogger } from '../../../../shared/log/create-logger.js';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';
import { localHttp } from '../../../helpers/local-http.js';
import { loadRemediatorConfig } from '../../../helpers/load-remediator-config.js';

describe('diagnosis from the exporter', () => {
  it('reads the observation of the target from /api/state and diagnoses it', async () => {
    const obs = CONDITIONS_OBS.hung();
    const exporter = await localHttp((_req, res) =>
      res
        .setHeader('content-type', 'application/json')
        .end(JSON.stringify({ version: 'x', targets: { main: { observation: obs, diagnosis: {} } } })),
    );
    try {
      const { all, cfg } = loadRemediatorConfig(
        `ollama: [{name: main, url: "http://127.0.0.1:1"}]\nremediator: {exporter_url: "${exporter.url}"}\n`,
      );
      const ports = createRemediationPorts({
        cfg,
        actionDeps: { log: createLogger('silent') } as unknown as ActionDeps,
        log: createLogger('silent'),
        firstTokenTimeoutMs: 1000,
        exporterAuth: 'Basic eDp5',
      });
      const r = await ports.diagnose(all.ollama[0]!, AbortSignal.timeout(5000));
      assert.equal(r.diagnosis.status, 'probe_hung');
      assert.match(r.source, /^exporter; container GPU access unknown/);
      assert.equal(exporter.requests[0]!.url, '/api/state?target=main&fresh=1&wait_ms=14500', 'a fresh picture');
      assert.equal(r.observedAtMs, null, 'the observation is undated: the engine will not act on it');
      assert.equal(exporter.requests[0]!.headers.authorization, 'Basic eDp5');
      const noModel = await ports.verify(all.ollama[0]!, undefined, AbortSignal.timeout(1000));
      assert.equal(noModel.healthy, null);
    } finally {
      await exporter.close();
    }
  });

  it('without the exporter it knows nothing and waits (inconclusive), instead of guessing', async () => {
    const { all, cfg } = loadRemediatorConfig(
      'ollama: [{name: main, url: "http://127.0.0.1:1"}]\nremediator: {exporter_url: "http://127.0.0.1:1", exporter_timeout: 1s}\n',
    );
    const ports = createRemediationPorts({
      cfg,
      actionDeps: { log: createLogger('silent') } as unknown as ActionDeps,
      log: createLogger('silent'),
      firstTokenTimeoutMs: 1000,
    });
    const r = await ports.diagnose(all.ollama[0]!, AbortSignal.timeout(5000));
    assert.equal(r.diagnosis.status, 'unknown');
    assert.match(r.source, /exporter unavailable/);
    assert.equal(r.observedAtMs, null, 'nothing known, nothing dated: the engine does not act');
  });

  it("dates the observation on its own clock: the exporter's age of it, placed before the answer arrived", async () => {
    // The exporter's clock is an hour ahead; its observation was 1.5 s old when the document was generated.
    const skew = 3_600_000;
    const here = Date.parse('2026-06-01T12:00:00Z');
    const obs = { ...CONDITIONS_OBS.hung(), observedAtMs: here + skew - 1_500 };
    const exporter = await localHttp((_req, res) =>
      res.setHeader('content-type', 'application/json').end(
        JSON.stringify({
          generated_at: new Date(here + skew).toISOString(),
          targets: { main: { observation: obs, diagnosis: {} } },
        }),
      ),
    );
    try {
      const { all, cfg } = loadRemediatorConfig(
        `ollama: [{name: main, url: "http://127.0.0.1:1"}]\nremediator: {exporter_url: "${exporter.url}"}\n`,
      );
      const ports = createRemediationPorts({
        cfg,
        actionDeps: { log: createLogger('silent') } as unknown as ActionDeps,
        log: createLogger('silent'),
        firstTokenTimeoutMs: 1000,
        now: () => here + 20,
      });
      const r = await ports.diagnose(all.ollama[0]!, AbortSignal.timeout(5000));
      assert.equal(r.observedAtMs, here + 20 - 1_500);
      assert.equal(r.observation?.target, 'main');
    } finally {
      await exporter.close();
    }
    assert.equal(onOurClock(1000, {}, 5000), 1000, "no generated_at: the exporter's time as it is");
    assert.equal(onOurClock(null, { generated_at: new Date(0).toISOString() }, 5000), null);
  });

  it('tolerates partial observations and rejects documents without the target', () => {
    assert.ok('problem' in readExporterObservation({}, 'main'));
    assert.ok('problem' in readExporterObservation({ targets: { other: { observation: {} } } }, 'main'));
    const r = readExporterObservation(
      { targets: { main: { observation: { apiUp: true, containerGpuAccess: 'yes' } } } },
      'main',
    );
    assert.ok('observation' in r);
    if ('observation' in r) {
      assert.equal(r.observation.apiUp, true);
      assert.equal(r.observation.containerGpuAccess, null, 'a wrong type is unknown, not true');
      assert.deepEqual(r.observation.probes, []);
    }
  });
});
