import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionDeps, ActionName } from '../../remediator/actions/action.js';
import type { OllamaTargetConfig } from '../../shared/config/types.js';
import type { TargetObservation } from '../../shared/diagnosis/target-observation.js';
import { OllamaClient } from '../../shared/ollama/ollama-client.js';
import { testDeps } from './action-test-deps.js';
import { hexId } from './fake-docker-api.js';
import { startFakeDockerEngine, type EngineReply, type EngineRequest } from './fake-docker-engine.js';
import { FakeProc } from './fake-proc.js';
import { answerWithFault, FaultSwitch, type FaultRequest, type Reply } from './fault-switch.js';
import { CONDITIONS_OBS } from './observation.js';

/** Where a call goes: the Docker Engine API, the Ollama API, or a signal to a process ("KILL /<pid>/<signal>"). */
export type Server = 'docker' | 'ollama' | 'signal';

export interface Endpoint {
  readonly server: Server;
  readonly endpoint: string;
  readonly when?: (req: FaultRequest) => boolean;
}

/** One remediator process's view of the world: its own sockets, so a "killed" one can be cut off alone. */
export interface Connection {
  readonly deps: ActionDeps;
  faults(server: Server): FaultSwitch;
  /** The process died: its calls stop reaching the world from now on. */
  cut(): Promise<void>;
}

/**
 * A scripted world for one action kind: the target, what the diagnosis says, the state the action changes and every
 * change made to it, in order (`effects`), so a test can tell exactly what was done and whether anything was done
 * twice. One world serves any number of connections (a remediator and the one restarted after killing it).
 */
export interface FaultWorld {
  readonly action: ActionName;
  readonly target: OllamaTargetConfig;
  readonly observation: () => TargetObservation;
  /** The call that changes the world, where a fault hits the action mid-step. */
  readonly mutation: Endpoint;
  /** Where a server's fault hits the step: its mutating call, or for the runner kills (whose signals are no server's)
   * the container list, their one Docker call. */
  readonly serverCall: Endpoint;
  readonly effects: string[];
  /** What verification would find now. */
  healthy(): boolean;
  connect(): Promise<Connection>;
  dispose(): Promise<void>;
}

export const CONTAINER_ID = hexId('ai-ollama-1');
const SERVER_PID = 100;
const RUNNER_PID = 101;
const ORPHAN_PID = 103;
const COMPOSE = { kind: 'compose', project: 'ai', service: 'ollama' } as const;
const LABELS = { 'com.docker.compose.project': 'ai', 'com.docker.compose.service': 'ollama' };

/** What the diagnosis says for each action's world: a condition whose ladder may start at that action. */
const OBSERVATION: Record<ActionName, () => TargetObservation> = {
  warm_up: CONDITIONS_OBS.hung,
  reload: CONDITIONS_OBS.hung,
  pull_model: CONDITIONS_OBS.missing,
  kill_runner: CONDITIONS_OBS.hung,
  kill_orphans: CONDITIONS_OBS.orphans,
  restart_container: CONDITIONS_OBS.gpuAccessLost,
  recreate_container: CONDITIONS_OBS.gpuAccessLost,
  force_update_service: CONDITIONS_OBS.gpuAccessLost,
  redeploy_stack: CONDITIONS_OBS.gpuAccessLost,
};

type Route = (r: EngineRequest) => EngineReply;
type OllamaRoute = (r: FaultRequest) => Reply;

export async function faultWorld(action: ActionName): Promise<FaultWorld> {
  const effects: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-fault-world-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  let ollamaRoute: OllamaRoute = () => ({ status: 404 });
  let route: Route = () => undefined;
  let proc: FakeProc | undefined;
  const alive = new Set<number>();
  const base = {
    action,
    effects,
    observation: OBSERVATION[action],
    dispose: async () => void (await Promise.all(cleanups.map((c) => c()))),
  };
  let world: Pick<FaultWorld, 'target' | 'mutation' | 'serverCall' | 'healthy'>;

  if (action === 'warm_up' || action === 'reload' || action === 'pull_model') {
    const m = { loaded: action === 'reload', present: action !== 'pull_model' };
    ollamaRoute = modelRoute(m, effects);
    const mutation: Endpoint =
      action === 'pull_model'
        ? { server: 'ollama', endpoint: 'POST /api/pull' }
        : { server: 'ollama', endpoint: 'POST /api/generate', when: (r) => !isUnload(r.body) };
    world = {
      target: { name: 'main', url: 'http://127.0.0.1:1', headers: {} },
      mutation,
      serverCall: mutation,
      healthy: () => (action === 'pull_model' ? m.present : m.loaded && effects.includes('load')),
    };
  } else if (action === 'force_update_service' || action === 'redeploy_stack') {
    const s = { version: 10, force: 2 };
    route = swarmRoute(s, effects);
    const stackFile = join(dir, 'stack.yml');
    await writeFile(stackFile, 'services: {ollama: {image: ollama}}\n');
    world = {
      target: {
        name: 'main',
        url: 'http://127.0.0.1:1',
        headers: {},
        container: { kind: 'swarm', stack: 'ai', service: 'ollama', stack_file: stackFile },
      },
      mutation: { server: 'docker', endpoint: 'POST /services/svc1/update' },
      serverCall: { server: 'docker', endpoint: 'POST /services/svc1/update' },
      healthy: () => (action === 'force_update_service' ? s.force > 2 : s.version > 10),
    };
  } else {
    const c = { running: true, starts: 0, startedAt: '2026-01-01T00:00:00.1Z' };
    route = composeRoute(c, effects);
    const kills = action === 'kill_runner' || action === 'kill_orphans';
    if (kills) {
      proc = await FakeProc.create();
      const p = proc;
      cleanups.push(() => p.dispose());
      await addProcesses(proc, action === 'kill_runner' ? RUNNER_PID : ORPHAN_PID);
      for (const pid of [SERVER_PID, action === 'kill_runner' ? RUNNER_PID : ORPHAN_PID]) alive.add(pid);
    }
    const victim = action === 'kill_runner' ? RUNNER_PID : ORPHAN_PID;
    const restart = action === 'restart_container' ? 'restart' : 'start';
    world = {
      target: { name: 'main', url: 'http://127.0.0.1:1', headers: {}, container: COMPOSE },
      mutation: kills
        ? { server: 'signal', endpoint: `KILL /${victim}/SIGTERM` }
        : { server: 'docker', endpoint: `POST /containers/${CONTAINER_ID}/${restart}` },
      serverCall: kills
        ? { server: 'docker', endpoint: 'GET /containers/json' }
        : { server: 'docker', endpoint: `POST /containers/${CONTAINER_ID}/${restart}` },
      healthy: () => (kills ? !alive.has(victim) : c.running && c.starts > 0),
    };
  }

  const cli = await fakeDockerCli(dir);
  const connect = async (): Promise<Connection> => {
    const engine = await startFakeDockerEngine(route);
    const ollama = await startFaultyServer(ollamaRoute);
    const signals = new FaultSwitch();
    let up = true;
    let closed: Promise<unknown> | undefined;
    const deps = testDeps(engine.docker, {
      procRoot: proc?.root ?? '/nonexistent',
      dockerHost: `unix://${engine.socketPath}`,
      dockerCli: cli,
      ollama: (t) => new OllamaClient({ ...t, url: ollama.url }, { timeoutMs: 5_000 }),
      queryComputeApps: async () =>
        [...alive].map((pid) => ({ gpuUuid: 'GPU-1', pid, processName: '/usr/bin/ollama', usedMemoryBytes: 1 << 30 })),
      kill: (pid, sig) => {
        if (!up) throw Object.assign(new Error('this remediator is dead'), { code: 'EPERM' });
        const fault = signals.takeNow({ method: 'KILL', path: `/${pid}/${sig}`, body: undefined });
        if (fault?.kind === 'drop' && !fault.applied) return; // killed before the signal went out
        if (fault?.kind === 'status') throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
        effects.push(`${sig} ${pid}`);
        alive.delete(pid);
        void proc?.remove(pid); // runners exit on SIGTERM
      },
      timeouts: { ...testDeps(engine.docker).timeouts, containerReadyMs: 400, convergeMs: 2_000 },
    });
    const conn: Connection = {
      deps,
      faults: (server) => (server === 'docker' ? engine.faults : server === 'ollama' ? ollama.faults : signals),
      cut: async () => {
        up = false;
        await (closed ??= Promise.all([engine.close(), ollama.close()]));
      },
    };
    cleanups.push(() => conn.cut());
    return conn;
  };
  return { ...base, ...world, connect };
}

function isUnload(body: unknown): boolean {
  return (body as { keep_alive?: unknown } | undefined)?.keep_alive === 0;
}

/** One Compose container; restart and start give it a new StartedAt, stop and start answer 304 when already so. */
function composeRoute(c: { running: boolean; starts: number; startedAt: string }, effects: string[]): Route {
  const inspect = () => ({
    Id: CONTAINER_ID,
    Name: '/ai-ollama-1',
    Image: 'sha256:x',
    Config: { Image: 'ollama/ollama', Labels: LABELS },
    State: {
      Running: c.running,
      Status: c.running ? 'running' : 'exited',
      Pid: c.running ? 50 : 0,
      StartedAt: c.startedAt,
    },
  });
  const start = (what: string) => {
    c.starts++;
    c.running = true;
    c.startedAt = `2026-01-02T00:00:0${c.starts}Z`;
    effects.push(`${what} ${CONTAINER_ID.slice(0, 12)}`);
  };
  return (r) => {
    if (r.method === 'GET' && r.path === '/containers/json') {
      const listed = r.query.get('all') === 'true' || c.running;
      const row = {
        Id: CONTAINER_ID,
        Names: ['/ai-ollama-1'],
        Labels: LABELS,
        State: c.running ? 'running' : 'exited',
      };
      return { status: 200, json: listed ? [row] : [] };
    }
    const m = /^\/containers\/([0-9a-f]{64})\/(json|restart|stop|start)$/.exec(r.path);
    if (!m || m[1] !== CONTAINER_ID) return undefined;
    if (m[2] === 'json') return { status: 200, json: inspect() };
    if (m[2] === 'restart') start('restart');
    else if (m[2] === 'stop') {
      if (!c.running) return { status: 304 };
      c.running = false;
      effects.push(`stop ${CONTAINER_ID.slice(0, 12)}`);
    } else {
      if (c.running) return { status: 304 };
      start('start');
    }
    return { status: 204 };
  };
}

/** Swarm service ai_ollama (svc1) of stack ai with one task that follows every update at once. */
function swarmRoute(s: { version: number; force: number }, effects: string[]): Route {
  const spec = () => ({
    Name: 'ai_ollama',
    Labels: { 'com.docker.stack.namespace': 'ai' },
    TaskTemplate: { ContainerSpec: { Image: 'ollama@sha256:abc' }, ForceUpdate: s.force },
    Mode: { Replicated: { Replicas: 1 } },
  });
  const info = () => ({
    ID: 'svc1',
    Version: { Index: s.version },
    Spec: spec(),
    UpdateStatus: { State: 'completed' },
  });
  return (r) => {
    if (r.method === 'GET' && (r.path === '/services/ai_ollama' || r.path === '/services/svc1'))
      return { status: 200, json: info() };
    if (r.method === 'GET' && r.path === '/services') return { status: 200, json: [info()] };
    if (r.method === 'GET' && r.path === '/tasks') {
      const task = { ID: `task-${s.version}`, ServiceID: 'svc1', DesiredState: 'running' };
      return { status: 200, json: [{ ...task, Spec: { ForceUpdate: s.force }, Status: { State: 'running' } }] };
    }
    if (r.method === 'POST' && r.path === '/services/svc1/update') {
      if (Number(r.query.get('version')) !== s.version)
        return { status: 500, json: { message: 'rpc error: update out of sequence' } };
      const force = (r.body as { TaskTemplate?: { ForceUpdate?: number } }).TaskTemplate?.ForceUpdate ?? s.force;
      effects.push(`update svc1 v${s.version} ForceUpdate ${s.force} -> ${force}`);
      s.force = force;
      s.version++;
      return { status: 200, json: { Warnings: null } };
    }
    return undefined;
  };
}

/** Enough of Ollama for the model actions: /api/ps, load and unload through /api/generate, /api/show, /api/pull. */
function modelRoute(m: { loaded: boolean; present: boolean }, effects: string[]): OllamaRoute {
  const json = (status: number, body: unknown): Reply => ({
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (r) => {
    const body = (r.body ?? {}) as Record<string, unknown>;
    if (r.path === '/api/ps') {
      const row = { name: 'llama3:latest', model: 'llama3:latest', size: 8e9, size_vram: 8e9, digest: 'abc' };
      return json(200, { models: m.loaded ? [{ ...row, expires_at: '2318-01-01T00:00:00Z' }] : [] });
    }
    if (r.path === '/api/generate') {
      const unload = isUnload(body);
      m.loaded = !unload;
      effects.push(unload ? 'unload' : 'load');
      return json(200, { model: body.model, response: '', done: true, done_reason: unload ? 'unload' : 'load' });
    }
    if (r.path === '/api/show') return m.present ? json(200, { details: {} }) : json(404, { error: 'not found' });
    if (r.path === '/api/pull') {
      m.present = true;
      effects.push('pull');
      return { status: 200, headers: { 'content-type': 'application/x-ndjson' }, body: '{"status":"success"}\n' };
    }
    return json(404, { error: `no route for ${r.path}` });
  };
}

async function startFaultyServer(
  route: OllamaRoute,
): Promise<{ url: string; faults: FaultSwitch; close(): Promise<void> }> {
  const faults = new FaultSwitch();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const r = {
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://x').pathname,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      void faults.take(r).then((fault) => answerWithFault(res, fault, () => route(r)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The target container: its `ollama serve` (PID 1 inside) and one runner: the target's own, or orphaned (parent 1). */
async function addProcesses(proc: FakeProc, runner: number): Promise<void> {
  const common = { comm: 'ollama', exe: '/usr/bin/ollama', containerId: CONTAINER_ID };
  await proc.add(SERVER_PID, {
    ...common,
    ppid: 90,
    startTime: 1000,
    argv: ['/usr/bin/ollama', 'serve'],
    nsPids: [SERVER_PID, 1],
  });
  await proc.add(runner, {
    ...common,
    ppid: runner === RUNNER_PID ? SERVER_PID : 1,
    startTime: 1100,
    argv: ['/usr/bin/ollama', 'runner', '--model', '/root/.ollama/models/blobs/sha256-x', '--port', '1'],
    nsPids: [runner, 7],
  });
}

/**
 * `docker stack deploy` stand-in: updates the stack's service through the Engine API at DOCKER_HOST like the real CLI
 * (so the engine's faults reach it) and exits 1 with the CLI's kind of message when the daemon fails it.
 */
async function fakeDockerCli(dir: string): Promise<string> {
  const path = join(dir, 'docker');
  await writeFile(
    path,
    `#!${process.execPath}
const http = require('node:http');
const socketPath = process.env.DOCKER_HOST.replace(/^unix:\\/\\//, '');
const call = (method, path, body) => new Promise((resolve, reject) => {
  const req = http.request({ socketPath, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
    let text = '';
    res.on('data', (c) => (text += c));
    res.on('end', () => resolve({ status: res.statusCode, body: text }));
    res.on('error', reject);
  });
  req.on('error', reject);
  req.end(body === undefined ? undefined : JSON.stringify(body));
});
(async () => {
  const info = JSON.parse((await call('GET', '/services/ai_ollama')).body);
  const up = await call('POST', '/services/svc1/update?version=' + info.Version.Index, info.Spec);
  if (up.status >= 300) throw new Error('Error response from daemon: ' + JSON.parse(up.body).message);
  console.log('Updating service ai_ollama (id: svc1)');
})().catch((err) => {
  console.error(err.message.startsWith('Error response') ? err.message : 'error during connect: ' + err.message);
  process.exit(1);
});
`,
  );
  await chmod(path, 0o755);
  return path;
}
