import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { fleetNodes } from '../../../../deploy/monitoring/fleet-nodes.js';
import { monitoringConfig } from '../../../../deploy/monitoring/monitoring-config.js';
import {
  FLEET_RECEIVER,
  remediatorReceiver,
  renderFleetAlertmanager,
} from '../../../../deploy/monitoring/render-fleet-alertmanager.js';
import { repoPath } from '../../../helpers/repo-path.js';

// test/fixtures/swarm/nodes.json: A (GPU manager reporting 0.0.0.0), B (GPU, same hostname), C (GPU, drained),
// D (no GPU), E (GPU, down). See fleet-prometheus.test.ts.
const nodesJson = JSON.parse(await readFile(repoPath('test/fixtures/swarm/nodes.json'), 'utf8')) as unknown[];
const ID = {
  a: 'q4d1v0m7a1xk3p9e2n5r8t6y0',
  b: 'h2k8s5w1c7b3n9f4j6l0z2x8v',
  c: 'm9t3r6e0y4u8i2o5p1a7s3d9f',
  e: 'e1r3t5y7u9i0o8p6a4s2d1f3g',
};
const main = repoPath('dist/deploy/monitoring/render-fleet-alertmanager-main.js');

describe('fleetNodes', () => {
  it('keeps every GPU-labelled node, drained and down ones too, with the address Prometheus scrapes', () => {
    assert.deepEqual(fleetNodes(nodesJson, monitoringConfig.fleet), [
      { id: ID.b, address: '192.0.2.12', hostname: 'gpu' },
      { id: ID.a, address: '192.0.2.11', hostname: 'gpu' },
      { id: ID.c, address: '192.0.2.13', hostname: 'gpu-c' },
      { id: ID.e, address: '192.0.2.15', hostname: 'gpu-e' },
    ]);
  });

  it('refuses what is not a node list, naming every bad node and how to get a good list', () => {
    assert.throws(() => fleetNodes({ nodes: [] }, monitoringConfig.fleet), /docker node inspect/);
    assert.throws(
      () =>
        fleetNodes(
          [
            { Spec: {} },
            { ID: 'x1', Spec: { Labels: { 'ollama-sentinel.gpu': 'true' } }, Status: { Addr: '0.0.0.0' } },
          ],
          monitoringConfig.fleet,
        ),
      (e: Error) => /node 0: no ID/.test(e.message) && /node 1 \(x1\): no usable Status\.Addr/.test(e.message),
    );
    assert.throws(
      () => fleetNodes([nodesJson[3]], monitoringConfig.fleet),
      /no node carries the label ollama-sentinel\.gpu=true: add it with `docker node update --label-add/,
    );
  });

  it('takes an IPv6 manager address without its brackets, and the webhook URL puts them back', () => {
    const v6 = {
      ID: 'v6node',
      Spec: { Labels: { 'ollama-sentinel.gpu': 'true' } },
      Description: { Hostname: 'gpu-v6' },
      Status: { Addr: '0.0.0.0' },
      ManagerStatus: { Addr: '[2001:db8::7]:2377' },
    };
    const nodes = fleetNodes([v6], monitoringConfig.fleet);
    assert.deepEqual(nodes, [{ id: 'v6node', address: '2001:db8::7', hostname: 'gpu-v6' }]);
    assert.match(
      renderFleetAlertmanager(monitoringConfig, nodes, nodes, 'test'),
      /url: http:\/\/\[2001:db8::7\]:9779\/webhook/,
    );
  });

  it('refuses a node listed twice when rendering routes', () => {
    const [one] = fleetNodes(nodesJson, monitoringConfig.fleet);
    assert.throws(() => renderFleetAlertmanager(monitoringConfig, [one!, one!], [one!], 'test'), /listed twice/);
  });
});

describe('render-fleet-alertmanager-main.js on a real node list', () => {
  const dirP = mkdtemp(join(tmpdir(), 'sentinel-fleet-am-'));
  after(async () => rm(await dirP, { recursive: true, force: true }));

  it('routes each remediable alert to its own node only, checked by amtool', async (t) => {
    const r = await execa('node', [main, repoPath('test/fixtures/swarm/nodes.json')], { reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    const am = parse(r.stdout) as {
      route: { routes: { receiver: string; group_by?: string[]; continue?: boolean }[] };
      receivers: { name: string; webhook_configs?: { url: string }[] }[];
    };
    assert.deepEqual(
      am.receivers.map((x) => x.name),
      ['humans', FLEET_RECEIVER, ...[ID.b, ID.a, ID.c, ID.e].map((id) => `remediator-${id}`)],
    );
    // The fleet remediator's route: first, every node's alert of one kind and target in one group, and continuing.
    const fleetRoute = am.route.routes[0]!;
    assert.equal(fleetRoute.receiver, FLEET_RECEIVER);
    assert.deepEqual(fleetRoute.group_by, ['alertname', 'ollama'], 'without node: the nodes are counted together');
    assert.equal(fleetRoute.continue, true, "each node's own route still gets its alert");
    // Every manager of the list (the fixture's only one: A, the leader, Status.Addr 0.0.0.0), on the fleet port.
    const managersInFixture = ['192.0.2.11'];
    assert.deepEqual(
      am.receivers.find((x) => x.name === FLEET_RECEIVER)!.webhook_configs!.map((w) => w.url),
      managersInFixture.map((addr) => `http://${addr}:${monitoringConfig.fleet.fleetRemediator.port}/webhook`),
    );
    assert.equal(am.route.routes.at(-1)!.receiver, 'humans', 'the humans route comes last');
    assert.match(r.stdout, /url: http:\/\/192\.0\.2\.11:9779\/webhook/, "the manager's real address");

    const dir = await dirP;
    await writeFile(join(dir, 'secret'), 'token\n');
    const file = join(dir, 'alertmanager.yml');
    await writeFile(file, r.stdout.replaceAll(monitoringConfig.fleet.secrets.remediatorTokenFile, join(dir, 'secret')));
    const check = await execa('amtool', ['check-config', file], { reject: false, all: true });
    if ((check as { code?: string }).code === 'ENOENT') {
      t.skip('amtool not installed (apt-get install prometheus-alertmanager)');
      return;
    }
    assert.equal(check.exitCode, 0, check.all);
    const routed = async (...labels: string[]) =>
      (await execa('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...labels])).stdout.trim();
    const base = ['alertname=OllamaApiDown', 'remediate=true', 'ollama=main'];
    for (const id of Object.values(ID)) {
      const own = remediatorReceiver({ id, address: '', hostname: '' });
      assert.equal(await routed(...base, `node=${id}`), `${FLEET_RECEIVER},${own},humans`);
      for (const alertname of ['OllamaModelMissing', 'OllamaGpuIdleWhileModelLoaded', 'OllamaProbeHung']) {
        const local = [`alertname=${alertname}`, 'remediate=true', 'ollama=main', `node=${id}`];
        assert.equal(await routed(...local), `${own},humans`, `${alertname}: a node-local cure, not the fleet's`);
      }
    }
    const noGpu = await routed(...base, 'node=z7x5c3v1b9n8m6l4k2j0h8g6f');
    assert.equal(noGpu, `${FLEET_RECEIVER},humans`, 'D has no GPU: no node route (the fleet remediator counts any)');
    assert.equal(await routed(...base), 'humans', 'no node label: humans only');
    assert.equal(await routed('alertname=GpuLost', 'ollama=main', `node=${ID.a}`), 'humans');
  });

  it('fails with a clear message on a bad list and with usage on bad arguments', async () => {
    const dir = await dirP;
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"not": "a list"}');
    const r = await execa('node', [main, bad], { reject: false });
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /expected a JSON array of Swarm nodes/);
    const none = await execa('node', [main], { reject: false });
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /usage: render-fleet-alertmanager-main\.js NODES\.json/);
  });
});
