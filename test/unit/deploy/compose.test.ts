import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadDeployConfig } from '../../helpers/load-deploy-config.js';
import { repoPath } from '../../helpers/repo-path.js';

type Service = Record<string, any>;
const compose = parse(readFileSync(repoPath('deploy/compose/docker-compose.yml'), 'utf8'), { merge: true }) as Record<
  string,
  any
>;
const services = compose.services as Record<string, Service>;
const config = loadDeployConfig('deploy/compose/ollama-sentinel.yaml') as Record<string, any>;
const SENTINEL = ['ollama-init', 'exporter', 'remediator'];
const volumes = (s: Service) => (s.volumes ?? []) as string[];
const gpuCaps = (s: Service) =>
  (s.deploy?.resources?.reservations?.devices ?? [])
    .filter((d: any) => d.driver === 'nvidia')
    .flatMap((d: any) => d.capabilities);

describe('deploy/compose/docker-compose.yml', () => {
  it('runs Ollama with a GPU reservation and an `ollama list` health check', () => {
    const o = services.ollama!;
    assert.deepEqual(gpuCaps(o), ['gpu']);
    assert.deepEqual(o.healthcheck.test, ['CMD', 'ollama', 'list']);
    assert.ok(
      volumes(o).some((v) => v.endsWith(':/root/.ollama') && compose.volumes[v.split(':')[0]!] !== undefined),
      'models on a named volume',
    );
  });

  it('orders start-up: ollama healthy -> init completed -> app', () => {
    const init = services['ollama-init']!;
    assert.deepEqual(init.command, ['init']);
    assert.equal(init.depends_on.ollama.condition, 'service_healthy');
    assert.equal(init.restart, 'no', 'a failed init must stay failed');
    assert.equal(services.app!.depends_on['ollama-init'].condition, 'service_completed_successfully');
  });

  it('gives the exporter the host PID view, the host /proc read-only, the Docker socket read-only and nvidia-smi', () => {
    const e = services.exporter!;
    assert.deepEqual(e.command, ['exporter']);
    assert.equal(e.pid, 'host');
    assert.ok(volumes(e).includes('/proc:/host/proc:ro'));
    assert.ok(volumes(e).includes('/var/run/docker.sock:/var/run/docker.sock:ro'));
    assert.deepEqual(gpuCaps(e), ['utility'], 'nvidia-smi only, no compute');
    assert.equal(e.user, undefined, 'the exporter runs as the image user (node), not root');
    assert.equal(config.gpu.proc_root, '/host/proc');
  });

  it('gives the remediator the Docker socket, a data volume, the token as a secret and nothing but CAP_KILL', () => {
    const r = services.remediator!;
    assert.deepEqual(r.command, ['remediator']);
    assert.ok(volumes(r).includes('/var/run/docker.sock:/var/run/docker.sock'));
    const data = volumes(r).find((v) => v.endsWith(`:${config.remediator.data_dir}`));
    assert.ok(data && compose.volumes[data.split(':')[0]!] !== undefined, 'remediator.data_dir on a named volume');
    assert.deepEqual(r.cap_drop, ['ALL']);
    assert.deepEqual(r.cap_add, ['KILL']);
    assert.equal(r.pid, 'host', 'signals to host PIDs need the host PID namespace');
    const secret = (r.secrets as string[])[0]!;
    assert.ok(compose.secrets[secret].file, 'secrets come from files');
    assert.equal(config.remediator.bearer_token_file, `/run/secrets/${secret}`);
    assert.equal(config.remediator.self.container, r.container_name, 'remediator.self names its own container');
    assert.equal(config.remediator.exporter_url, 'http://exporter:9778');
  });

  it('runs every ollama-sentinel service with an init, a read-only root, no new privileges and the shared config', () => {
    for (const name of SENTINEL) {
      const s = services[name]!;
      assert.equal(s.init, true, `${name}: init`);
      assert.equal(s.read_only, true, `${name}: read_only`);
      assert.ok(s.security_opt.includes('no-new-privileges:true'), `${name}: no-new-privileges`);
      assert.equal(s.privileged, undefined, `${name}: privileged`);
      assert.equal(
        s.configs[0].target,
        s.environment.SENTINEL_CONFIG,
        `${name}: SENTINEL_CONFIG points at the mounted config`,
      );
      assert.equal(compose.configs[s.configs[0].source].file, './ollama-sentinel.yaml');
    }
  });

  it('publishes ports on loopback only, matching the configured listen addresses', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of (s.ports ?? []) as string[]) assert.match(p, /^127\.0\.0\.1:\d+:\d+$/, `${name}: ${p}`);
    }
    assert.ok(services.exporter!.ports.includes(`127.0.0.1:9778:${config.exporter.listen_address.split(':').pop()}`));
    assert.ok(
      services.remediator!.ports.includes(`127.0.0.1:9779:${config.remediator.listen_address.split(':').pop()}`),
    );
  });

  it('names the Ollama container the way the config finds it', () => {
    const target = config.ollama[0];
    assert.equal(target.container.project, compose.name);
    assert.ok(services[target.container.service], `service ${target.container.service} exists`);
    assert.equal(new URL(target.url).hostname, target.container.service);
  });
});
