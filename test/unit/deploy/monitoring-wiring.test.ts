import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { exporterSection } from '../../../exporter/exporter-section.js';
import { monitoringConfig } from '../../../deploy/monitoring/monitoring-config.js';
import { remediatorSection } from '../../../remediator/remediator-section.js';
import { repoPath } from '../../helpers/repo-path.js';

const promPath = 'deploy/prometheus/prometheus.yml';
const prom = parse(readFileSync(repoPath(promPath), 'utf8')) as Record<string, any>;
const datasources = parse(
  readFileSync(repoPath('grafana/provisioning/datasources/ollama-sentinel.yaml'), 'utf8'),
) as Record<string, any>;
const providers = parse(
  readFileSync(repoPath('grafana/provisioning/dashboards/ollama-sentinel.yaml'), 'utf8'),
) as Record<string, any>;
const port = (address: string) => address.split(':').pop();

describe('deploy/prometheus/prometheus.yml', () => {
  it('loads the generated rules from beside itself', () => {
    for (const f of prom.rule_files as string[])
      assert.ok(existsSync(join(dirname(repoPath(promPath)), f)), `rule file ${f}`);
    assert.ok((prom.rule_files as string[]).includes('ollama-sentinel.rules.yml'));
  });

  it('scrapes the exporter under the job the rules select, on its default port', () => {
    const job = monitoringConfig.exporterSelector.match(/^job="([^"]+)"$/)?.[1];
    assert.ok(job, 'exporterSelector is a job matcher');
    const scrape = (prom.scrape_configs as any[]).find((s) => s.job_name === job);
    assert.ok(scrape, `no scrape job ${job}`);
    assert.deepEqual(scrape.static_configs[0].targets.map(port), [
      port(String(exporterSection.scalars.listen_address!.default)),
    ]);
  });

  it('scrapes the remediator with the bearer token it requires, and sends alerts to Alertmanager', () => {
    const scrape = (prom.scrape_configs as any[]).find((s) =>
      s.static_configs[0].targets.some(
        (t: string) => port(t) === port(String(remediatorSection.scalars.listen_address!.default)),
      ),
    );
    assert.ok(scrape, 'no scrape job for the remediator');
    assert.equal(scrape.authorization.type, 'Bearer');
    assert.ok(scrape.authorization.credentials_file);
    assert.ok(prom.alerting.alertmanagers[0].static_configs[0].targets.length > 0);
  });
});

describe('grafana/provisioning', () => {
  it('provides a Prometheus data source with a pinned uid and the scrape interval as its time interval', () => {
    assert.equal(datasources.apiVersion, 1);
    const ds = datasources.datasources[0];
    assert.equal(ds.type, 'prometheus');
    assert.equal(ds.access, 'proxy');
    assert.match(ds.uid, /^[a-z0-9-]+$/);
    assert.equal(ds.jsonData.timeInterval, prom.global.scrape_interval, '$__rate_interval must cover several scrapes');
  });

  it('loads the dashboards from files, read-only', () => {
    assert.equal(providers.apiVersion, 1);
    const p = providers.providers[0];
    assert.equal(p.type, 'file');
    assert.equal(p.disableDeletion, true);
    assert.equal(p.allowUiUpdates, false);
    assert.ok(p.options.path);
  });
});
