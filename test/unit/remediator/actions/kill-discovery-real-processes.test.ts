/**
 * Row 7 of issue 9 against the real /proc: real processes shaped like an Ollama server, one model runner and every
 * GPU discovery form Ollama starts. The kill selection reads them from /proc as the remediator does, for both kill
 * steps; then the eligible processes are really terminated, and every discovery process is still running after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type {
  KillCandidateInput,
  KillPolicy,
  KillScope,
} from '../../../../remediator/actions/select-kill-candidates.js';
import { selectKillCandidates } from '../../../../remediator/actions/select-kill-candidates.js';
import { terminateProcess } from '../../../../remediator/actions/terminate-process.js';
import { CallLog } from '../../../../remediator/actions/call-log.js';
import { classifyProcessRole } from '../../../../shared/proc/classify-process-role.js';
import { readProcessIdentity, type ProcessIdentity } from '../../../../shared/proc/read-process-identity.js';
import { startFakeOllamaTree } from '../../../helpers/fake-ollama-process-tree.js';
import { stillAlive } from '../../../helpers/proc-tree.js';

const BLOB = `sha256-${'5'.repeat(64)}`;
const DISCOVERY = ['list-devices', 'brief-start', 'gpu-discover', 'old-runner'] as const;

test('real discovery processes under a real server survive kill_runner and kill_orphans', async (t) => {
  const tree = await startFakeOllamaTree([
    ['runner', 'llama-server', ['--model', `/root/.ollama/models/blobs/${BLOB}`, '--port', '41001', '-np', '1']],
    ['list-devices', 'llama-server', ['--list-devices', '--offline', '--verbose']],
    ['brief-start', 'llama-server', ['--port', '50123', '--host', '127.0.0.1', '--no-webui', '--offline', '--verbose']],
    ['gpu-discover', 'ollama', ['gpu-discover', '--lib-dir', '/usr/lib/ollama']],
    ['old-runner', 'ollama', ['runner', '--ollama-engine', '--port', '37001']],
  ]);
  t.after(() => tree.stop());
  const read = async (pid: number) => {
    const id = await readProcessIdentity('/proc', pid);
    assert.ok(id, `PID ${pid} readable in /proc`);
    return id;
  };
  const server = await read(tree.server.pid!);
  assert.equal(classifyProcessRole(server.argv, server.exe), 'ollama_server');
  const ids = new Map<string, ProcessIdentity>();
  for (const [name, pid] of tree.pids) ids.set(name, await read(pid));
  for (const name of DISCOVERY) {
    const id = ids.get(name)!;
    assert.equal(classifyProcessRole(id.argv, id.exe), 'ollama_discovery', `${name}: ${id.exe} ${id.argv.join(' ')}`);
  }
  assert.equal(classifyProcessRole(ids.get('runner')!.argv, ids.get('runner')!.exe), 'ollama_runner');

  // Whose the tree is, as the remediator would prove it here: the server's container, or the host.
  const scope: KillScope | null =
    server.containerId !== null
      ? { kind: 'containers', ids: new Set([server.containerId]) }
      : server.onHost
        ? {
            kind: 'host',
            hostServerPids: [server.pid],
            soleHostTarget: true,
            recordedServers: [{ pid: server.pid, startTime: server.startTime, bootId: 'this-boot' }],
          }
        : null;
  const inputs: KillCandidateInput[] = [...ids.values()].map((id) => ({
    app: { gpuUuid: 'GPU-1', pid: id.pid, processName: id.exe ?? id.argv[0]!, usedMemoryBytes: 300 << 20 },
    identity: id,
    parent: server,
    containerExists: null,
    owners: [],
  }));
  const self = { pid: process.pid, containerId: null };
  const policies: KillPolicy[] = (['runner', 'orphans'] as const).map((mode) => ({
    mode,
    target: 'main',
    scope: scope ?? { kind: 'containers', ids: new Set() },
    self,
  }));
  const runnerSel = selectKillCandidates(inputs, policies[0]!);
  const orphanSel = selectKillCandidates(inputs, policies[1]!);
  for (const sel of [runnerSel, orphanSel]) {
    for (const name of DISCOVERY) {
      const pid = ids.get(name)!.pid;
      assert.ok(!sel.eligible.some((c) => c.pid === pid), `${name} never eligible`);
      assert.ok(!sel.unproven.some((c) => c.pid === pid), `${name} never escalated as a runner`);
      assert.match(sel.rejected.find((r) => r.pid === pid)?.reason ?? '', /ollama_discovery/);
    }
  }
  // The runner is served by a live server: never an orphan; kill_runner takes it where ownership is provable here.
  assert.deepEqual(orphanSel.eligible, []);
  if (scope !== null) {
    assert.deepEqual(
      runnerSel.eligible.map((c) => c.pid),
      [ids.get('runner')!.pid],
    );
  }

  // Really stop what was selected (SIGTERM, re-checked identity), then look again.
  const calls = new CallLog(false);
  for (const c of runnerSel.eligible) {
    const outcome = await terminateProcess(c, {
      procRoot: '/proc',
      graceMs: 3000,
      killWaitMs: 2000,
      calls,
      signal: AbortSignal.timeout(10_000),
      kill: (pid, sig) => process.kill(pid, sig),
      now: () => Date.now(),
    });
    assert.ok(outcome === 'terminated' || outcome === 'killed', outcome);
  }
  for (const name of DISCOVERY) {
    const id = ids.get(name)!;
    assert.equal(await stillAlive(id.pid, id.startTime), true, `${name} survived`);
  }
  const serverStat = await readFile(`/proc/${server.pid}/stat`, 'utf8');
  assert.ok(serverStat.length > 0, 'the server too');
});
