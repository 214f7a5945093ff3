import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { monitoringConfig } from '../../../deploy/monitoring/monitoring-config.js';
import { selfConflicts } from '../../../remediator/config/validate-self.js';
import { loadDeployConfig } from '../../helpers/load-deploy-config.js';
import { repoPath } from '../../helpers/repo-path.js';

type Service = Record<string, any>;
const path = 'deploy/swarm/fleet-stack.yml';
const text = readFileSync(repoPath(path), 'utf8');
const stack = parse(text, { merge: true }) as Record<string, any>;
const services = stack.services as Record<string, Service>;
const config = loadDeployConfig('deploy/swarm/fleet-sentinel.yaml') as Record<string, any>;
const prometheus = parse(readFileSync(repoPath('deploy/prometheus/prometheus-fleet.yml'), 'utf8')) as Record<
  string,
  any
>;
const fleet = monitoringConfig.fleet;
const STACK = 'fleet';
const GPU_NODES = `node.labels.${fleet.gpuNodeLabel[0]} == ${fleet.gpuNodeLabel[1]}`;
const secretPath = (s: Service, source: string) =>
  `/run/secrets/${(s.secrets as { source: string; target: string }[]).find((x) => x.source === source)!.target}`;

describe('deploy/swarm/fleet-stack.yml', () => {
  it('runs Ollama, init, the exporter and the remediator once on every GPU node, on its host network', () => {
    for (const name of ['ollama', 'ollama-init', 'exporter', 'remediator']) {
      const s = services[name]!;
      assert.equal(s.deploy.mode, name === 'ollama-init' ? 'global-job' : 'global', name);
      assert.deepEqual(s.deploy.placement.constraints, [GPU_NODES], `${name}: the label Prometheus keeps`);
      assert.deepEqual(s.networks, ['hostnet'], name);
    }
    assert.deepEqual(stack.networks.hostnet, { external: true, name: 'host' });
    assert.equal(services.ollama!.environment.OLLAMA_HOST, '127.0.0.1:11434');
    assert.equal(config.ollama[0].url, 'http://127.0.0.1:11434');
  });

  it("gives the exporter the host /proc and its node's Docker socket read-only; the remediator its own data", () => {
    const e = services.exporter!;
    assert.ok(e.volumes.includes('/proc:/host/proc:ro'));
    assert.ok(e.volumes.includes('/var/run/docker.sock:/var/run/docker.sock:ro'));
    assert.equal(config.gpu.proc_root, '/host/proc');
    const r = services.remediator!;
    assert.ok(!r.volumes.some((v: string) => v.startsWith('/proc:')), 'no host /proc: signals would miss');
    assert.ok(r.volumes.includes('/var/run/docker.sock:/var/run/docker.sock'));
    assert.ok(r.volumes.some((v: string) => v.endsWith(`:${config.remediator.data_dir}`)));
  });

  it('listens where Prometheus and Alertmanager look, with the secrets they send', () => {
    assert.equal(config.exporter.listen_address, `:${fleet.exporterPort}`);
    assert.equal(config.remediator.listen_address, `:${fleet.remediatorPort}`);
    assert.equal(config.exporter.basic_auth_username, fleet.exporterUsername);
    assert.equal(config.remediator.exporter_basic_auth_username, fleet.exporterUsername);
    const exporterPassword = secretPath(services.exporter!, 'sentinel-exporter-password');
    assert.equal(config.exporter.basic_auth_password_file, exporterPassword);
    assert.equal(config.remediator.exporter_basic_auth_password_file, exporterPassword);
    assert.equal(config.remediator.bearer_token_file, secretPath(services.remediator!, 'sentinel-remediator-token'));
    // Prometheus and Alertmanager read the same Swarm secrets at the paths the generated configs name.
    assert.equal(secretPath(services.prometheus!, 'sentinel-exporter-password'), fleet.secrets.exporterPasswordFile);
    assert.equal(secretPath(services.prometheus!, 'sentinel-remediator-token'), fleet.secrets.remediatorTokenFile);
    assert.equal(secretPath(services.alertmanager!, 'sentinel-remediator-token'), fleet.secrets.remediatorTokenFile);
    for (const s of Object.values(stack.secrets as Record<string, any>)) assert.deepEqual(s, { external: true });
  });

  it('runs Prometheus and Alertmanager once, on a manager, with the generated fleet configs', () => {
    for (const name of ['prometheus', 'alertmanager']) {
      const s = services[name]!;
      assert.equal(s.deploy.replicas, 1, name);
      assert.deepEqual(s.deploy.placement.constraints, ['node.role == manager'], name);
      assert.deepEqual(s.networks, ['hostnet'], name);
    }
    assert.equal(stack.networks.hostnet.name, 'host');
    const socket = fleet.dockerApi.host.replace(/^unix:\/\//, '');
    assert.ok(services.prometheus!.volumes.includes(`${socket}:${socket}:ro`), 'the manager socket the SD reads');
    const sd = prometheus.scrape_configs[0].dockerswarm_sd_configs[0];
    assert.equal(sd.host, fleet.dockerApi.host);
    // Alertmanager on whichever manager runs it: every ready manager's :9093, as Swarm lists the managers.
    const am = prometheus.alerting.alertmanagers[0];
    assert.deepEqual(am.dockerswarm_sd_configs[0], { ...sd, port: fleet.alertmanagerPort });
    assert.deepEqual(am.relabel_configs[0], {
      source_labels: ['__meta_dockerswarm_node_role', '__meta_dockerswarm_node_status'],
      regex: 'manager;ready',
      action: 'keep',
    });
    assert.equal(stack.configs['prometheus-config'].file, '../prometheus/prometheus-fleet.yml');
    assert.equal(stack.configs['prometheus-rules'].file, '../prometheus/ollama-sentinel.rules.yml');
    assert.equal(stack.configs['sentinel-config'].file, './fleet-sentinel.yaml');
    assert.match(
      stack.configs['alertmanager-config'].file,
      /^\$\{SENTINEL_FLEET_ALERTMANAGER:-\.\.\/alertmanager\/alertmanager-fleet\.yml\}$/,
    );
  });

  it('lets a node-level remediator take node-local steps only', () => {
    // Without a ladder a swarm target's restart is force_update_service: every node's task at once, from a manager.
    for (const rule of config.remediator.rules) {
      assert.ok(rule.ladder.length > 0, `${rule.name}: an explicit ladder`);
      for (const step of ['force_update_service', 'redeploy_stack'])
        assert.ok(!rule.ladder.includes(step), `${rule.name}: ${step} is service-level`);
    }
  });

  it('names services the way the config expects for `docker stack deploy ... fleet`', () => {
    assert.deepEqual(config.ollama[0].container, { kind: 'swarm', service: `${STACK}_ollama`, stack: STACK });
    assert.deepEqual(config.remediator.self, { swarm_service: `${STACK}_remediator`, stack: STACK });
    assert.deepEqual(selfConflicts(config.remediator.self, config.ollama), [], "the remediator's start-up check");
    assert.match(text, new RegExp(`docker stack deploy -c fleet-stack.yml --resolve-image never ${STACK}\\b`));
  });

  it('passes the docker CLI schema check (docker stack config)', async (t) => {
    const r = await execa('docker', ['stack', 'config', '-c', repoPath(path)], {
      reject: false,
      all: true,
      env: { DOCKER_HOST: 'unix:///nonexistent.sock' },
    });
    if ((r as { code?: string }).code === 'ENOENT') {
      t.skip('docker CLI not installed');
      return;
    }
    assert.equal(r.exitCode, 0, r.all);
  });
});
