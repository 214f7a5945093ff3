/**
 * A SECOND Docker Engine on the same host (as with rootless Docker, Docker-in-Docker or two engines): its
 * containers answer 404 on the test environment's daemon, their processes share the kernel, the GPU (the fake
 * nvidia-smi lists them) and even the target's Compose labels. kill_orphans and kill_runner for a target of the
 * test environment's daemon must never signal them: a runner with its live server is not an orphan, and an orphan
 * of a container never seen as the target's is escalated (the action refuses), never killed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { ActionDeps, ActionRequest } from '../../../../remediator/actions/action.js';
import { recordCurrentOwnership } from '../../../../remediator/actions/record-ownership.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import { TargetHistory } from '../../../../remediator/state/target-history.js';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { readProcessIdentity } from '../../../../shared/proc/read-process-identity.js';
import { defaultH100State, writeGpuState } from '../../../sim/gpu-state.js';
import { prepareFakeOllamaBin, runnersEnv } from '../../../helpers/fake-ollama-bin.js';
import { integrationDeps } from '../../../helpers/integration-deps.js';
import { serveTree, stillAlive } from '../../../helpers/proc-tree.js';
import { readTestEnv, type TestEnv } from '../../../helpers/read-test-env.js';
import { startSecondDockerd, type SecondDockerd } from '../../../helpers/second-dockerd.js';
import { testDockerClient } from '../../../helpers/test-docker-client.js';
import { testEnvSkip } from '../../../helpers/test-env-skip.js';
import { waitFor } from '../../../helpers/wait-for.js';

const GPU = 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694';
const BIN = '/opt/ollama-bin';
const MODEL = '/root/.ollama/models/blobs/sha256-6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa';
// sh as PID 1: a runner whose server dies is reparented to it and keeps running (the orphan shape).
const SH_SERVE = ['/bin/sh', '-c', `trap 'exit 0' TERM; ${BIN}/ollama serve & while :; do sleep 1; done`];

interface Proc {
  readonly label: string;
  readonly pid: number;
  readonly startTime: number;
}

describe('kill safety: the runners of a second Docker Engine on the host', { skip: testEnvSkip() }, () => {
  let env: TestEnv;
  let main: Docker;
  let second: SecondDockerd | undefined;
  const tag = `k2d${process.pid}`;
  let dir = '';
  let stateFile: string;
  let history: TargetHistory;
  const mainContainers: string[] = [];
  const procs = new Map<string, Proc>();
  const labels = { 'com.docker.compose.project': tag, 'com.docker.compose.service': 'ollama' };
  let target: OllamaTargetConfig;

  async function record(label: string, pid: number): Promise<void> {
    const id = await readProcessIdentity('/proc', pid);
    assert.ok(id, `${label} (PID ${pid}) is visible`);
    procs.set(label, { label, pid, startTime: id.startTime });
  }

  /** sh -> ollama serve -> one model runner, in a container of `docker`; labels as the target's on both daemons. */
  async function serving(docker: Docker, name: string, image: string, binds: string[]): Promise<number> {
    const c = await docker.createContainer({
      name: `sentinel-${tag}-${name}`,
      Image: image,
      Entrypoint: SH_SERVE,
      Cmd: [],
      Labels: { ...labels, 'com.docker.compose.oneoff': 'False' },
      Env: [runnersEnv([{ model: MODEL }])],
      WorkingDir: BIN,
      HostConfig: { NetworkMode: 'host', Binds: [...binds, `${join(dir, 'bin')}:${BIN}:ro`] },
    });
    if (docker === main) mainContainers.push(c.id);
    await c.start();
    return (await c.inspect()).State.Pid;
  }

  const deps = (): ActionDeps => integrationDeps(env, stateFile, { history });
  const request = (action: ActionRequest['action']): ActionRequest => ({
    action,
    target,
    dryRun: false,
    signal: AbortSignal.timeout(30_000),
    incidentId: tag,
  });

  async function assertSecondUntouched(): Promise<void> {
    for (const p of procs.values()) {
      if (!p.label.startsWith('second.')) continue;
      assert.ok(await stillAlive(p.pid, p.startTime), `${p.label} (PID ${p.pid}) must be the same live process`);
    }
  }

  before(async () => {
    env = readTestEnv();
    main = testDockerClient(env);
    dir = join(env.tmpDir, tag);
    await mkdir(dir, { recursive: true });
    prepareFakeOllamaBin(join(dir, 'bin'));
    second = await startSecondDockerd(join(dir, 'd2'), tag);

    // The second daemon: a healthy server with its runner, and a server that will die, orphaning its runner.
    const usr = ['/usr:/usr:ro'];
    const healthy = await serveTree(await serving(second.docker, 'healthy', second.image, usr), 1);
    await record('second.serve', healthy.serve);
    await record('second.runner', healthy.kids[0]!);
    const dying = await serveTree(await serving(second.docker, 'orphan', second.image, usr), 1);
    await record('second.orphan', dying.kids[0]!);
    process.kill(dying.serve, 'SIGKILL');
    await waitFor(async () => (await readProcessIdentity('/proc', dying.kids[0]!))?.ppid !== dying.serve, {
      timeoutMs: 10_000,
      what: "the second daemon's runner to be reparented",
    });

    // The test environment's daemon: the target's own container, its server and runner.
    const own = await serveTree(await serving(main, 'target', env.simImage, []), 1);
    await record('main.serve', own.serve);
    await record('main.runner', own.kids[0]!);

    stateFile = join(dir, 'gpu-state');
    const state = defaultH100State();
    state.procs = [...procs.values()].map((p) => ({ gpuUuid: GPU, pid: p.pid, usedMiB: 1024, name: `${BIN}/ollama` }));
    writeGpuState(stateFile, state);

    target = {
      name: 't',
      url: 'http://127.0.0.1:1',
      headers: {},
      container: { kind: 'compose', project: tag, service: 'ollama' },
    };
    await mkdir(join(dir, 'data'));
    history = await TargetHistory.open(join(dir, 'data'), [target], { now: () => Date.now(), warn: () => undefined });
    await recordCurrentOwnership([target], deps()); // what start-up records
  });

  after(async () => {
    for (const id of mainContainers)
      await main
        ?.getContainer(id)
        .remove({ force: true })
        .catch(() => {});
    await second?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the second daemon does not know its own containers from the first one: 404 both ways', async () => {
    const ids = (await second!.docker.listContainers()).map((c) => c.Id);
    assert.equal(ids.length, 2);
    for (const id of ids) await assert.rejects(main.getContainer(id).inspect(), /404|no such container/i);
    // ...while their processes look like any Docker container's: a Docker cgroup (.../docker/<id>) named by an id.
    const runner = await readProcessIdentity('/proc', procs.get('second.runner')!.pid);
    assert.ok(runner?.containerId && ids.includes(runner.containerId), 'the runner is in a second-daemon container');
    assert.equal(runner.runtime, 'docker');
    assert.deepEqual(history.containerOwners(ids[0]!), [], 'never recorded as the target');
    assert.equal(history.containerOwners(mainContainers[0]!)[0]?.target, 't', 'the target container is');
  });

  it('kill_orphans refuses (cannot prove ownership) and signals nothing', async () => {
    const result = await runAction(request('kill_orphans'), deps());
    assert.equal(result.outcome, 'failed', result.detail);
    assert.match(result.detail, /^refused: cannot prove ownership of 1 runner\(s\), nothing signalled/);
    const { pid: healthy } = procs.get('second.runner')!;
    const { pid: orphan } = procs.get('second.orphan')!;
    assert.match(result.detail, new RegExp(`PID ${healthy}: child of a live ollama serve`));
    assert.match(
      result.detail,
      new RegExp(`escalate: .*PID ${orphan}: orphan-like runner of container .* never seen as this target's`),
    );
    assert.ok(!result.calls.some((c) => c.startsWith('kill ')), result.calls.join('\n'));
    await assertSecondUntouched();
    assert.ok(await stillAlive(procs.get('main.runner')!.pid, procs.get('main.runner')!.startTime));
  });

  it("kill_runner takes the target's own runner only; the second daemon's stay", async () => {
    const runner = procs.get('main.runner')!;
    const result = await runAction(request('kill_runner'), deps());
    assert.equal(result.outcome, 'done', result.detail);
    assert.match(result.detail, new RegExp(`^PID ${runner.pid} terminated`));
    for (const label of ['second.runner', 'second.orphan'])
      assert.match(
        result.detail,
        new RegExp(`PID ${procs.get(label)!.pid}: runner of container [0-9a-f]{12}, not of the target`),
      );
    await waitFor(async () => !(await stillAlive(runner.pid, runner.startTime)), {
      timeoutMs: 5_000,
      what: 'the runner gone',
    });
    await assertSecondUntouched();
  });
});
