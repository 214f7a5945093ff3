import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNodeCollector, type NodeSnapshot } from '../../../../exporter/collectors/node-collector.js';
import { CollectError, type Collector } from '../../../../exporter/collector.js';
import { PromSink } from '../../../../exporter/metrics/prom-sink.js';
import { createReadOnlyDockerClient } from '../../../../shared/docker/create-read-only-docker-client.js';
import { RecordingSink } from '../../../helpers/recording-sink.js';
import { startFakeDockerEngine, type EngineReply } from '../../../helpers/fake-docker-engine.js';

async function run(c: Collector<NodeSnapshot>) {
  const snapshot = await c.collect({ signal: new AbortController().signal, now: Date.now });
  const sink = new RecordingSink();
  c.render(snapshot, sink);
  c.render(snapshot, new PromSink()); // refuses inconsistent label names
  return { snapshot, sink };
}

/** An Engine whose GET /info answers `info` (a trimmed real answer: the Swarm part as a worker node writes it). */
async function engineWithInfo(t: { after: (fn: () => Promise<void>) => void }, info: EngineReply) {
  const engine = await startFakeDockerEngine((req) =>
    req.method === 'GET' && req.path === '/info' ? info : undefined,
  );
  t.after(() => engine.close());
  return { engine, docker: createReadOnlyDockerClient({ host: `unix://${engine.socketPath}`, timeout_ms: 2000 }) };
}

test('node: a Swarm node publishes its node id, daemon name, state and hostname', async (t) => {
  const { engine, docker } = await engineWithInfo(t, {
    status: 200,
    json: {
      ID: '7TRN:IPZB:QYBB:VPBQ:UWM5:QGGD:3CEY:JLTR:XM2O:5EGH:OPAC:IJWR',
      Name: 'gpu-worker-3',
      ServerVersion: '27.3.1',
      Swarm: {
        NodeID: 'qgu4vxckxlq4f2n9k5ul7mhoe',
        NodeAddr: '10.0.0.13',
        LocalNodeState: 'active',
        ControlAvailable: false,
        Error: '',
        RemoteManagers: [{ NodeID: 'k3wzx1', Addr: '10.0.0.10:2377' }],
      },
    },
  });
  const c = createNodeCollector({ timeoutMs: 2000 }, { docker, hostname: 'gpu-worker-3.lan' });
  assert.equal(c.name, 'node');
  const { sink } = await run(c);
  assert.deepEqual(
    sink.samples.map((s) => [s.name, s.labels, s.value]),
    [
      [
        'sentinel_node_info',
        {
          hostname: 'gpu-worker-3.lan',
          node_id: 'qgu4vxckxlq4f2n9k5ul7mhoe',
          node_name: 'gpu-worker-3',
          swarm_state: 'active',
        },
        1,
      ],
    ],
  );
  assert.deepEqual(
    engine.requests.map((r) => `${r.method} ${r.path}`),
    ['GET /info'],
  );
});

test('node: outside a Swarm the node id is empty and the state says so', async (t) => {
  const { docker } = await engineWithInfo(t, {
    status: 200,
    json: { Name: 'workstation', Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive' } },
  });
  const { snapshot } = await run(createNodeCollector({ timeoutMs: 2000 }, { docker, hostname: 'abc123' }));
  assert.deepEqual(snapshot, { hostname: 'abc123', nodeId: '', nodeName: 'workstation', swarmState: 'inactive' });
});

test('node: without Docker the series still names the host, with empty Docker fields, and asks nobody', async () => {
  const { sink } = await run(createNodeCollector({ timeoutMs: 2000 }, { hostname: 'bare-metal-1' }));
  assert.deepEqual(sink.find('sentinel_node_info')[0]?.labels, {
    hostname: 'bare-metal-1',
    node_id: '',
    node_name: '',
    swarm_state: '',
  });
});

test('node: a daemon that fails /info fails the run with reason docker and its message', async (t) => {
  const { docker } = await engineWithInfo(t, { status: 500, json: { message: 'swarm component is locked' } });
  const c = createNodeCollector({ timeoutMs: 2000 }, { docker, hostname: 'h' });
  await assert.rejects(
    c.collect({ signal: new AbortController().signal, now: Date.now }),
    (err: unknown) =>
      err instanceof CollectError &&
      err.reason === 'docker' &&
      /GET \/info.*\(HTTP code 500\) server error - swarm component is locked/.test(err.message),
  );
});
