/**
 * Runner kills on the REAL kernel and Docker Engine: containers run processes shaped like Ollama (node hard-linked as
 * `ollama`, `serve` spawning `runner --model ...` and a discovery runner), next to decoys: another project's
 * container, a second replica whose PID 1 is a runner, `ollama serve` / runners / an unrelated process on the host,
 * and a runner posing as the remediator. The fake nvidia-smi lists every one of them as a GPU process; only the
 * eligible runner may ever be signalled, and every decoy must still be the same process afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { actionHappened } from '../../../../remediator/actions/action-happened.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { readProcessIdentity } from '../../../../shared/proc/read-process-identity.js';
import { defaultH100State, writeGpuState } from '../../../sim/gpu-state.js';
import { readTestEnv, type TestEnv } from '../../../helpers/read-test-env.js';
import { startProcess, type ProcessHandle } from '../../../helpers/start-process.js';
import { testDockerClient } from '../../../helpers/test-docker-client.js';
import { testEnvSkip } from '../../../helpers/test-env-skip.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { prepareFakeOllamaBin, runnersEnv } from '../../../helpers/fake-ollama-bin.js';
import { integrationDeps } from '../../../helpers/integration-deps.js';
import { argvOf, childrenOf, stillAlive } from '../../../helpers/proc-tree.js';

const GPU = 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694';
const BIN = '/opt/ollama-bin'; // where the fake ollama folder is mounted in containers
const MODEL = '/root/.ollama/models/blobs/sha256-6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa';

interface Proc {
  readonly label: string;
  readonly pid: number;
  readonly startTime: number;
  readonly name: string;
}

describe('runner kills against the real kernel and Docker Engine', { skip: testEnvSkip() }, () => {
  let env: TestEnv;
  let docker: Docker;
  const tag = `kill${process.pid}`;
  let dir: string;
  let stateFile: string;
  const containers: string[] = [];
  const host: ProcessHandle[] = [];
  const procs = new Map<string, Proc>();
  let target1: OllamaTargetConfig;
  let target2: OllamaTargetConfig;

  async function record(label: string, pid: number, name: string): Promise<void> {
    const id = await readProcessIdentity('/proc', pid);
    assert.ok(id, `${label} (PID ${pid}) is visible`);
    procs.set(label, { label, pid, startTime: id.startTime, name });
  }

  /** Starts a container of the sim image with the fake ollama folder mounted; returns its PID 1 on the host. */
  async function container(
    name: string,
    labels: Record<string, string>,
    entrypoint: string[],
    envVars: string[] = [],
  ): Promise<number> {
    const c = await docker.createContainer({
      name: `sentinel-${tag}-${name}`,
      Image: env.simImage,
      Entrypoint: entrypoint,
      Cmd: [],
      Labels: labels,
      Env: envVars,
      WorkingDir: BIN,
      HostConfig: { NetworkMode: 'host', Binds: [`${join(dir, 'bin')}:${BIN}:ro`] },
    });
    containers.push(c.id);
    await c.start();
    return (await c.inspect()).State.Pid;
  }

  const compose = (project: string, service: string) => ({
    'com.docker.compose.project': project,
    'com.docker.compose.service': service,
    'com.docker.compose.oneoff': 'False',
  });
  // sh as PID 1 (as with many images' entrypoint scripts): a runner whose server dies is reparented to it.
  const shServe = ['/bin/sh', '-c', `trap 'exit 0' TERM; ${BIN}/ollama serve & while :; do sleep 1; done`];

  /** The `ollama serve` under a sh PID 1, and its runners, once all have started. */
  async function serveTree(shPid: number, runners: number): Promise<{ serve: number; kids: number[] }> {
    return waitFor(
      async () => {
        const serves: number[] = [];
        for (const p of await childrenOf(shPid)) if ((await argvOf(p)).includes('serve')) serves.push(p);
        if (serves.length !== 1) return undefined;
        const kids = await childrenOf(serves[0]!);
        return kids.length === runners ? { serve: serves[0]!, kids } : undefined;
      },
      { timeoutMs: 30_000, what: `ollama serve under PID ${shPid} with ${runners} runner(s)` },
    );
  }

  /** Records a server's children as `<prefix>.runner` (has --model) and `<prefix>.discovery`. */
  async function labelKids(prefix: string, kids: number[], name: string): Promise<void> {
    for (const k of kids)
      await record(`${prefix}.${(await argvOf(k)).includes('--model') ? 'runner' : 'discovery'}`, k, name);
  }

  before(async () => {
    env = readTestEnv();
    docker = testDockerClient(env);
    dir = join(env.tmpDir, tag);
    await mkdir(dir, { recursive: true });
    const exe = prepareFakeOllamaBin(join(dir, 'bin'));
    const inContainer = `${BIN}/ollama`;

    // Target 1 (Compose ai/ollama): replica 1 = sh -> serve -> stubborn model runner + discovery runner;
    // replica 2 = a runner that is PID 1 of its container.
    const a1 = await container('a1', compose(tag, 'ollama'), shServe, [
      runnersEnv([{ model: MODEL, stubborn: true }, {}]),
    ]);
    const t1 = await serveTree(a1, 2);
    await record('a1.serve', t1.serve, inContainer);
    await labelKids('a1', t1.kids, inContainer);
    const c = await container('c', compose(tag, 'ollama'), [
      inContainer,
      'runner',
      '--model',
      MODEL,
      '--port',
      '40100',
    ]);
    await record('c.runner-pid1', c, inContainer);

    // Target 2 (Compose ai/ollama2): sh -> serve -> model runner; its server will be killed to orphan the runner.
    const a2 = await container('a2', compose(tag, 'ollama2'), shServe, [runnersEnv([{ model: MODEL }])]);
    const t2 = await serveTree(a2, 1);
    await record('a2.serve', t2.serve, inContainer);
    await record('a2.runner', t2.kids[0]!, inContainer);

    // Another project's Ollama.
    const b = await container('b', compose(`${tag}other`, 'ollama'), shServe, [runnersEnv([{ model: MODEL }])]);
    const tb = await serveTree(b, 1);
    await record('b.serve', tb.serve, inContainer);
    await record('b.runner', tb.kids[0]!, inContainer);

    // Host decoys: a serve, a runner (child of this test), a runner posing as the remediator, unrelated node.
    const spawnHost = (label: string, args: string[], file = exe) => {
      const h = startProcess(file, args, { cwd: join(dir, 'bin'), env: { ...process.env, SENTINEL_RUNNERS: '[]' } });
      host.push(h);
      return { label, h };
    };
    const hostProcs = [
      spawnHost('host.serve', ['serve']),
      spawnHost('host.runner', ['runner', '--model', '/models/host', '--port', '40200']),
      spawnHost('host.self', ['runner', '--model', '/models/self', '--port', '40201']),
      spawnHost('host.other', ['-e', 'setInterval(() => {}, 1 << 30)'], process.execPath),
    ];
    for (const { label, h } of hostProcs) {
      await waitFor(async () => (await readProcessIdentity('/proc', h.pid!))?.argv.length! > 1, {
        timeoutMs: 10_000,
        what: label,
      });
      await record(label, h.pid!, label === 'host.other' ? process.execPath : exe);
    }

    stateFile = join(dir, 'gpu-state');
    const state = defaultH100State();
    state.procs = [...procs.values()].map((p) => ({ gpuUuid: GPU, pid: p.pid, usedMiB: 1024, name: p.name }));
    writeGpuState(stateFile, state);

    target1 = {
      name: 't1',
      url: 'http://127.0.0.1:1',
      headers: {},
      container: { kind: 'compose', project: tag, service: 'ollama' },
    };
    target2 = {
      name: 't2',
      url: 'http://127.0.0.1:1',
      headers: {},
      container: { kind: 'compose', project: tag, service: 'ollama2' },
    };
  });

  after(async () => {
    for (const h of host) await h.stop({ graceMs: 1000 });
    for (const id of containers)
      await docker
        ?.getContainer(id)
        .remove({ force: true })
        .catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const request = (
    action: ActionRequest['action'],
    target: OllamaTargetConfig,
    over: Partial<ActionRequest> = {},
  ): ActionRequest => ({
    action,
    target,
    dryRun: false,
    signal: AbortSignal.timeout(60_000),
    incidentId: tag,
    ...over,
  });
  const deps = () => integrationDeps(env, stateFile, { self: { pid: procs.get('host.self')!.pid, containerId: null } });

  async function assertAlive(except: string[]): Promise<void> {
    for (const p of procs.values()) {
      if (except.includes(p.label)) continue;
      assert.ok(await stillAlive(p.pid, p.startTime), `${p.label} (PID ${p.pid}) must be untouched`);
    }
  }

  it('dry-run: names the stubborn runner of target 1 and signals nothing', async () => {
    const result = await runAction(request('kill_runner', target1, { dryRun: true }), deps());
    assert.equal(result.outcome, 'skipped', result.detail);
    const runner = procs.get('a1.runner')!;
    assert.ok(
      result.calls.some((c) => c.startsWith(`would kill -TERM PID ${runner.pid} (start ${runner.startTime}`)),
      result.calls.join('\n'),
    );
    assert.equal(result.calls.filter((c) => c.startsWith('would kill -TERM')).length, 1);
    await assertAlive([]);
  });

  it('kill_runner: SIGTERM, grace, SIGKILL to the one eligible runner; every decoy untouched', async () => {
    const runner = procs.get('a1.runner')!;
    let evidence: Record<string, unknown> | undefined;
    const d = deps();
    const result = await runAction(request('kill_runner', target1, { onBefore: (b) => void (evidence = b) }), d);
    assert.equal(result.outcome, 'done', result.detail);
    assert.match(result.detail, new RegExp(`PID ${runner.pid} killed`), 'it ignored SIGTERM, so SIGKILL was needed');
    assert.ok(
      result.calls.includes(`kill -KILL PID ${runner.pid} (start ${runner.startTime}, ${BIN}/ollama runner)`),
      result.calls.join('\n'),
    );
    // A SIGKILLed process loses its exe link before the kernel finishes tearing it down: give that a moment.
    await waitFor(async () => !(await stillAlive(runner.pid, runner.startTime)), {
      timeoutMs: 5_000,
      intervalMs: 20,
      what: `PID ${runner.pid} to be gone`,
    });
    // why each decoy was left alone is in the detail
    assert.match(result.detail, new RegExp(`PID ${procs.get('c.runner-pid1')!.pid}: PID 1 of its PID namespace`));
    assert.match(
      result.detail,
      new RegExp(`PID ${procs.get('a1.serve')!.pid}: not an Ollama model runner \\(ollama_server`),
    );
    assert.match(result.detail, new RegExp(`PID ${procs.get('host.self')!.pid}: the remediator itself`));
    assert.match(result.detail, new RegExp(`PID ${procs.get('a2.runner')!.pid}: runner of container`));
    await assertAlive(['a1.runner']);
    assert.equal(await actionHappened('kill_runner', evidence!, target1, d), true);
  });

  it('kill_orphans: after its server dies, the reparented runner of target 2 goes; nothing else', async () => {
    const serve = procs.get('a2.serve')!;
    const runner = procs.get('a2.runner')!;
    process.kill(serve.pid, 'SIGKILL');
    await waitFor(async () => (await readProcessIdentity('/proc', runner.pid))?.ppid !== serve.pid, {
      timeoutMs: 10_000,
      what: 'the runner to be reparented',
    });

    const d = deps();
    const dry = await runAction(request('kill_orphans', target2, { dryRun: true }), d);
    assert.equal(dry.outcome, 'skipped');
    assert.equal(await stillAlive(runner.pid, runner.startTime), true);
    // evidence taken now; the step not done yet: a restarted remediator must redo it
    assert.equal(await actionHappened('kill_orphans', dry.before!, target2, d), false);

    const result = await runAction(request('kill_orphans', target2), d);
    assert.equal(result.outcome, 'done', result.detail);
    assert.match(
      result.detail,
      new RegExp(`PID ${runner.pid} terminated \\[orphaned runner of the target \\(parent PID \\d+ is /bin/sh`),
    );
    await waitFor(async () => !(await stillAlive(runner.pid, runner.startTime)), {
      timeoutMs: 5_000,
      intervalMs: 20,
      what: `PID ${runner.pid} to be gone`,
    });
    await assertAlive(['a1.runner', 'a2.serve', 'a2.runner']);
    assert.equal(await actionHappened('kill_orphans', result.before!, target2, d), true);
  });

  it('kill_orphans on target 1 finds none: its runners have a live server, PID 1 is never one', async () => {
    const result = await runAction(request('kill_orphans', target1), deps());
    assert.equal(result.outcome, 'skipped', result.detail);
    assert.match(result.detail, /no orphaned runner on the GPU/);
    await assertAlive(['a1.runner', 'a2.serve', 'a2.runner']);
  });
});
