import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionDeps } from '../../../../remediator/actions/action.js';
import { readExporterObservation } from '../../../../remediator/engine/read-exporter-observation.js';
import { createRemediationPorts } from '../../../../remediator/wiring/create-remediation-ports.js';
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
      assert.equal(exporter.requests[0]!.url, '/api/state');
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
