import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { selfConflicts } from '../../../remediator/config/validate-self.js';
import { loadDeployConfig } from '../../helpers/load-deploy-config.js';
import { repoPath } from '../../helpers/repo-path.js';

type Service = Record<string, any>;
const path = 'deploy/swarm/stack.yml';
const stack = parse(readFileSync(repoPath(path), 'utf8'), { merge: true }) as Record<string, any>;
const services = stack.services as Record<string, Service>;
const config = loadDeployConfig('deploy/swarm/ollama-sentinel.yaml') as Record<string, any>;
const STACK = 'ai';

describe('deploy/swarm/stack.yml', () => {
  it('puts every service on the host network', () => {
    assert.deepEqual(stack.networks.hostnet, { external: true, name: 'host' });
    for (const [name, s] of Object.entries(services)) assert.deepEqual(s.networks, ['hostnet'], name);
    assert.equal(
      services.ollama!.environment.OLLAMA_HOST,
      '127.0.0.1:11434',
      'on the host network Ollama binds loopback only',
    );
    assert.equal(config.ollama[0].url, 'http://127.0.0.1:11434');
  });

  it('runs init as a retried job and gates the app on `init --check`', () => {
    const init = services['ollama-init']!;
    assert.deepEqual(init.command, ['init']);
    assert.equal(init.deploy.mode, 'replicated-job');
    assert.equal(init.deploy.restart_policy.condition, 'on-failure');
    assert.match(services.app!.entrypoint.join(' '), /ollama-sentinel init --check &&/);
  });

  it('gives every long-running service an update_config and a stop_grace_period', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.deploy?.mode === 'replicated-job') continue;
      assert.ok(s.deploy?.update_config, `${name}: update_config`);
      assert.equal(s.deploy.update_config.order, 'stop-first', `${name}: never two copies on the host network`);
      assert.match(String(s.stop_grace_period), /^\d+s$/, `${name}: stop_grace_period`);
    }
  });

  it('mounts the host /proc into the exporter but not into the remediator, whose signals would hit its own PID namespace', () => {
    assert.ok(services.exporter!.volumes.includes('/proc:/host/proc:ro'));
    assert.ok(services.exporter!.volumes.includes('/var/run/docker.sock:/var/run/docker.sock:ro'));
    assert.equal(config.gpu.proc_root, '/host/proc');
    const r = services.remediator!;
    assert.ok(!r.volumes.some((v: string) => v.startsWith('/proc:')), 'no host /proc in the remediator');
    assert.equal(r.environment.SENTINEL_GPU_PROC_ROOT, '/proc');
    assert.ok(r.volumes.includes('/var/run/docker.sock:/var/run/docker.sock'));
    assert.ok(
      r.volumes.some((v: string) => v.endsWith(`:${config.remediator.data_dir}`)),
      'remediator.data_dir on a volume',
    );
  });

  it('names services and itself the way the config expects for `docker stack deploy ... ai`', () => {
    assert.equal(config.ollama[0].container.service, `${STACK}_ollama`);
    assert.equal(config.ollama[0].container.stack, STACK);
    assert.ok(services.ollama);
    assert.deepEqual(config.remediator.self, { swarm_service: `${STACK}_remediator`, stack: STACK });
    // The remediator's start-up check, which once refused this very file (seen only when the stack was deployed).
    assert.deepEqual(selfConflicts(config.remediator.self, config.ollama), []);
    const secret = services.remediator!.secrets[0];
    assert.equal(config.remediator.bearer_token_file, `/run/secrets/${secret.target}`);
    assert.match(
      readFileSync(repoPath(path), 'utf8'),
      new RegExp(`docker stack deploy -c stack.yml --resolve-image never ${STACK}\\b`),
    );
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
