import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { monitoringConfig } from '../../../../deploy/monitoring/monitoring-config.js';
import { renderFleetPrometheus } from '../../../../deploy/monitoring/render-fleet-prometheus.js';
import { startLocalServer, type LocalServer } from '../../../helpers/local-server.js';
import { repoPath } from '../../../helpers/repo-path.js';
import { startPrometheus } from '../../../helpers/start-prometheus.js';
import type { HttpDaemonHandle } from '../../../helpers/start-http-daemon.js';
import { waitFor } from '../../../helpers/wait-for.js';

/**
 * The generated fleet scrape config, relabeling untouched, run by the real Prometheus against a fake Docker Engine API
 * that lists test/fixtures/swarm/nodes.json (what a manager answers GET /nodes with). The five nodes:
 *   A q4d1… "gpu"    GPU, manager and leader, Status.Addr 0.0.0.0 (its manager address is 192.0.2.11:2377)
 *   B h2k8… "gpu"    GPU worker, same hostname as A, node label ollama-sentinel.name=rack2-gpu
 *   C m9t3… "gpu-c"  GPU, drained
 *   D z7x5… "cpu-d"  no GPU (ollama-sentinel.gpu=false)
 *   E e1r3… "gpu-e"  GPU, down (heartbeat failure)
 * 192.0.2.0/24 is TEST-NET-1: nothing answers there, and the scrape interval is stretched so none is even tried.
 */
const nodesJson = await readFile(repoPath('test/fixtures/swarm/nodes.json'), 'utf8');
const ID = { a: 'q4d1v0m7a1xk3p9e2n5r8t6y0', b: 'h2k8s5w1c7b3n9f4j6l0z2x8v', e: 'e1r3t5y7u9i0o8p6a4s2d1f3g' };

interface Target {
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  scrapePool: string;
}

describe('renderFleetPrometheus', () => {
  const withApi = (dockerApi: (typeof monitoringConfig)['fleet']['dockerApi']) => ({
    ...monitoringConfig,
    fleet: { ...monitoringConfig.fleet, dockerApi },
  });
  const tls = {
    caFile: '/run/secrets/docker-ca.pem',
    certFile: '/run/secrets/cert.pem',
    keyFile: '/run/secrets/key.pem',
  };

  it("reaches a remote manager's TLS-protected Docker API with a client certificate", () => {
    const config = parse(
      renderFleetPrometheus(withApi({ host: 'https://manager-1:2376', tls, refreshInterval: '1m' })),
    ) as Record<string, any>;
    for (const job of config.scrape_configs)
      assert.deepEqual(job.dockerswarm_sd_configs, [
        {
          host: 'https://manager-1:2376',
          role: 'nodes',
          port: job.job_name.endsWith('-remediator') ? 9779 : 9778,
          refresh_interval: '1m',
          tls_config: { ca_file: tls.caFile, cert_file: tls.certFile, key_file: tls.keyFile },
        },
      ]);
  });

  it('refuses TLS settings Prometheus would ignore (they apply to http(s) hosts only)', () => {
    assert.throws(
      () => renderFleetPrometheus(withApi({ host: 'tcp://manager-1:2376', tls, refreshInterval: '30s' })),
      /tls is set but host tcp:\/\/manager-1:2376 is not https:\/\//,
    );
  });
});

describe('deploy/prometheus/prometheus-fleet.yml in the real Prometheus', () => {
  let engine: LocalServer;
  let prometheus: HttpDaemonHandle;
  let secrets: string;

  before(async () => {
    engine = await startLocalServer((req, res) => {
      const path = new URL(req.url, 'http://engine').pathname;
      // The Docker client negotiates the API version first (HEAD /_ping), then lists /v<version>/nodes.
      if (path === '/_ping') {
        res.writeHead(200, { 'API-Version': '1.49', 'Content-Type': 'text/plain' });
        res.end(req.method === 'HEAD' ? undefined : 'OK');
      } else if (/^\/v[\d.]+\/nodes$/.test(path) && req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(nodesJson);
      } else if (/^(\/v[\d.]+)?\/version$/.test(path)) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ Version: '28.2.2', ApiVersion: '1.49', MinAPIVersion: '1.24', Os: 'linux' }));
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: `page not found: ${req.method} ${path}` }));
      }
    });
    secrets = await mkdtemp(join(tmpdir(), 'sentinel-fleet-secrets-'));
    const secret = join(secrets, 'secret');
    await writeFile(secret, 'token\n');
    // Only what cannot work here changes: the manager's address, the secret paths, the intervals. Not the relabeling.
    const config = parse(renderFleetPrometheus(monitoringConfig)) as Record<string, any>;
    delete config.rule_files;
    delete config.alerting;
    config.global = { scrape_interval: '1h', scrape_timeout: '10s', evaluation_interval: '1h' };
    for (const job of config.scrape_configs) {
      for (const sd of job.dockerswarm_sd_configs) Object.assign(sd, { host: engine.url, refresh_interval: '1s' });
      if (job.basic_auth) job.basic_auth.password_file = secret;
      if (job.authorization) job.authorization.credentials_file = secret;
    }
    prometheus = await startPrometheus({ config });
  });
  after(async () => {
    await prometheus?.stop();
    await engine?.close();
    if (secrets) await rm(secrets, { recursive: true, force: true });
  });

  const targets = async () => {
    const r = await fetch(`${prometheus.url}/api/v1/targets`);
    const body = (await r.json()) as { data: { activeTargets: Target[]; droppedTargets: Target[] } };
    return body.data;
  };

  it('scrapes exactly the GPU nodes that are not drained, each labelled with its node ID and name', async () => {
    const job = /job="([^"]+)"/.exec(monitoringConfig.exporterSelector)![1]!;
    const { exporterPort, remediatorPort } = monitoringConfig.fleet;
    // Prometheus hands discovered targets to the scrape pools every 5 s.
    const pools = [job, `${job}-remediator`];
    await waitFor(
      async () => {
        const active = (await targets()).activeTargets;
        return pools.every((p) => active.some((t) => t.scrapePool === p));
      },
      { timeoutMs: 20_000, what: 'Prometheus to discover the fleet from the fake Docker API' },
    );
    const data = await targets();
    for (const [pool, port] of [
      [job, exporterPort],
      [`${job}-remediator`, remediatorPort],
    ] as const) {
      const active = data.activeTargets
        .filter((t) => t.scrapePool === pool)
        .map((t) => t.labels)
        .sort((x, y) => x.instance!.localeCompare(y.instance!));
      assert.deepEqual(
        active,
        [
          // A: the manager's 0.0.0.0 replaced by the host of its manager address; node_name from the hostname.
          { instance: `192.0.2.11:${port}`, job: pool, node: ID.a, node_name: 'gpu' },
          // B: same hostname as A, told apart by its ID; node_name from the node label.
          { instance: `192.0.2.12:${port}`, job: pool, node: ID.b, node_name: 'rack2-gpu' },
          // E: down, still a target, so its failed scrapes raise SentinelExporterDown for that node.
          { instance: `192.0.2.15:${port}`, job: pool, node: ID.e, node_name: 'gpu-e' },
        ],
        pool,
      );
      // C (drained) and D (no GPU) were discovered and dropped by the relabeling, not missed.
      const dropped = data.droppedTargets
        .filter((t) => t.discoveredLabels.job === pool)
        .map((t) => t.discoveredLabels.__meta_dockerswarm_node_hostname)
        .sort();
      assert.deepEqual(dropped, ['cpu-d', 'gpu-c'], pool);
    }
    assert.ok(
      engine.requests.some((r) => r.method === 'GET' && /\/nodes$/.test(new URL(r.url, 'http://e').pathname)),
      'Prometheus listed the nodes from the fake manager',
    );
  });
});
