/**
 * GPU discovery processes open the GPU (nvidia-smi lists them) but are never runners: whatever the kill step, scope
 * or ownership evidence, the pure selection never makes one eligible, nor escalates it as an unproven runner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectKillCandidates, type KillPolicy } from '../../../../remediator/actions/select-kill-candidates.js';
import type { ProcessIdentity } from '../../../../shared/proc/read-process-identity.js';
import {
  GONE,
  SERVER,
  TARGET,
  hostScope,
  input,
  mainOwns,
  onHost,
  orphanPolicy,
  proc,
  reasonFor,
  runnerPolicy,
} from '../../../helpers/kill-candidates.js';

/** Every argv Ollama starts GPU discovery with (see shared/proc/classify-process-role.ts for the sources). */
const DISCOVERY_ARGVS: readonly string[][] = [
  ['/usr/lib/ollama/llama-server', '--port', '50123', '--host', '127.0.0.1', '--no-webui', '--offline', '--verbose'],
  ['/usr/lib/ollama/llama-server', '--list-devices', '--offline', '--verbose'],
  ['/usr/local/lib/ollama/llama-server', '--list-devices', '--offline', '--verbose'],
  ['/usr/bin/ollama', 'gpu-discover', '--lib-dir', '/usr/lib/ollama', '--lib-dir', '/usr/lib/ollama/cuda_v13'],
  ['/usr/bin/ollama', 'runner', '--ollama-engine', '--port', '37001'],
  ['/usr/bin/ollama', 'runner', '--port', '37002'],
];

const HOST_SERVER = proc(900, ['/usr/bin/ollama', 'serve'], { ppid: 1, ...onHost(900), startTime: 9000 });

/** Every kill step and ownership situation the selection knows. */
const POLICIES: readonly [string, KillPolicy][] = [
  ['kill_runner, containers', runnerPolicy],
  ['kill_orphans, containers', orphanPolicy],
  ['kill_runner, host', { ...runnerPolicy, scope: hostScope([900]) }],
  [
    'kill_orphans, host, server recorded',
    {
      ...orphanPolicy,
      scope: hostScope([], { recordedServers: [{ pid: 900, startTime: 9000, bootId: 'b' }] }),
    },
  ],
];

/** The placements a discovery process can have: served, reparented, in a removed container, on the host. */
function placements(argv: string[], pid: number): [string, ProcessIdentity, ProcessIdentity | null, boolean][] {
  return [
    ['child of the target server', proc(pid, argv, { ppid: SERVER.pid }), SERVER, false],
    ['reparented to init in the target container', proc(pid, argv, { ppid: 1 }), null, false],
    ['in a removed container seen as the target', proc(pid, argv, { ppid: 1, containerId: GONE }), null, true],
    ['child of the host server', proc(pid, argv, { ppid: 900, ...onHost(pid), startTime: 9500 }), HOST_SERVER, false],
    ['host orphan', proc(pid, argv, { ppid: 1, ...onHost(pid), startTime: 9600 }), null, false],
  ];
}

for (const [policyName, policy] of POLICIES) {
  test(`discovery processes are never selected nor escalated: ${policyName}`, () => {
    let pid = 2000;
    for (const argv of DISCOVERY_ARGVS) {
      for (const [where, identity, parent, removed] of placements(argv, ++pid)) {
        const sel = selectKillCandidates(
          [
            input(identity, {
              app: { gpuUuid: 'GPU-1', pid: identity.pid, processName: argv[0]!, usedMemoryBytes: 300 << 20 },
              parent,
              containerExists: removed ? false : null,
              owners: removed ? mainOwns : [],
            }),
          ],
          policy,
        );
        const what = `${argv.join(' ')} (${where})`;
        assert.deepEqual(sel.eligible, [], what);
        assert.deepEqual(sel.unproven, [], what);
        assert.match(reasonFor(sel, identity.pid), /not an Ollama model runner \(ollama_discovery/, what);
      }
    }
  });
}

test('the same binary with --model is still selected: discovery is told apart by argv, not by name', () => {
  const argv = ['/usr/lib/ollama/llama-server', '--model', '/root/.ollama/models/blobs/sha256-ab', '--port', '41000'];
  const runner = proc(3001, argv, { ppid: SERVER.pid });
  const discovery = proc(3002, DISCOVERY_ARGVS[1]!, { ppid: SERVER.pid });
  const sel = selectKillCandidates(
    [runner, discovery].map((id) =>
      input(id, { app: { gpuUuid: 'GPU-1', pid: id.pid, processName: argv[0]!, usedMemoryBytes: 1 << 30 } }),
    ),
    runnerPolicy,
  );
  assert.deepEqual(
    sel.eligible.map((c) => c.pid),
    [3001],
  );
  assert.equal(sel.eligible[0]!.containerId, TARGET);
  assert.match(reasonFor(sel, 3002), /ollama_discovery: \/usr\/lib\/ollama\/llama-server --list-devices --offline/);
});
