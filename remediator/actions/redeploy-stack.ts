import { existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { execa } from 'execa';
import type { ActionDeps, ActionRequest, ActionResult } from './action.js';
import type { CallLog } from './call-log.js';
import { waitServiceConverged } from './force-update-service.js';
import { listStackServices, stackLeftovers } from './stack-services.js';
import { boundedSignal, waitUntil } from './wait-until.js';

/**
 * `docker stack deploy -c FILE --resolve-image never STACK`: re-applies the pinned stack file (recreates a deleted
 * service, reverts a manual scale-down or edit). `never` keeps Swarm from resolving tags against a registry, which
 * could silently upgrade images. An unchanged file leaves running tasks alone (deploy keeps ForceUpdate), so a hard
 * reset is `removeStackFirst`: `docker stack rm`, wait until every service, container and network is gone, deploy.
 */
export async function redeployStack(req: ActionRequest, deps: ActionDeps, calls: CallLog): Promise<ActionResult> {
  const { target, signal } = req;
  const result = calls.result.bind(calls);
  const selector = target.container;
  if (selector?.kind !== 'swarm' || !selector.stack || !selector.stack_file) {
    return result('skipped', `target ${target.name} has no Swarm stack with a stack_file: nothing to redeploy`);
  }
  const { stack, stack_file: file } = selector;
  if (deps.self.stack === stack || deps.self.swarmService?.startsWith(`${stack}_`)) {
    return result('failed', `refused: stack ${stack} is the remediator's own stack`);
  }
  try {
    await access(file);
  } catch (err) {
    return result(
      'failed',
      `stack file ${file} is not readable: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }

  calls.read(`GET /services?filters={"label":["com.docker.stack.namespace=${stack}"]}`);
  const services = await listStackServices(deps.docker, stack, boundedSignal(signal, deps.timeouts.dockerMs));
  const before = { stack, file, removeFirst: req.removeStackFirst === true, services };
  const cli = dockerCliPath(deps);
  const deployArgs = ['stack', 'deploy', '-c', file, '--resolve-image', 'never', stack];
  const removeArgs = ['stack', 'rm', stack];

  if (req.dryRun) {
    if (req.removeStackFirst) {
      calls.write(`${cli} ${removeArgs.join(' ')} (DOCKER_HOST=${deps.dockerHost})`);
      calls.write(
        `poll GET /services, /containers/json, /networks for label com.docker.stack.namespace=${stack} until empty`,
      );
    }
    calls.write(`${cli} ${deployArgs.join(' ')} (DOCKER_HOST=${deps.dockerHost})`);
    calls.write(`poll GET /services and GET /tasks until every service of ${stack} runs its replicas`);
    return result(
      'skipped',
      `dry-run: would ${req.removeStackFirst ? 'remove and ' : ''}redeploy stack ${stack} from ${file} (${services.length} service(s) now)`,
      before,
    );
  }
  await req.onBefore?.(before);

  if (req.removeStackFirst) {
    calls.write(`${cli} ${removeArgs.join(' ')} (DOCKER_HOST=${deps.dockerHost})`);
    const rm = await runDockerCli(deps, removeArgs, { timeoutMs: deps.timeouts.stackCommandMs, signal });
    if (rm.exitCode !== 0) return result('failed', `docker stack rm ${stack}: ${cliFailure(rm)}`, before);
    calls.read(
      `poll GET /services, /containers/json, /networks for label com.docker.stack.namespace=${stack} until empty`,
    );
    const gone = await waitUntil(
      async () =>
        (await stackLeftovers(deps.docker, stack, boundedSignal(signal, deps.timeouts.dockerMs))) === 0
          ? true
          : undefined,
      {
        timeoutMs: deps.timeouts.convergeMs,
        intervalMs: 500,
        signal,
        now: () => deps.now(),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
      },
    );
    if (!gone)
      return result(
        'failed',
        `stack ${stack} was removed but its tasks/networks were still there after ${deps.timeouts.convergeMs} ms; not redeployed`,
        before,
      );
  }

  calls.write(`${cli} ${deployArgs.join(' ')} (DOCKER_HOST=${deps.dockerHost})`);
  const deploy = await runDockerCli(deps, deployArgs, { timeoutMs: deps.timeouts.stackCommandMs, signal });
  if (deploy.exitCode !== 0) return result('failed', `docker stack deploy ${stack}: ${cliFailure(deploy)}`, before);

  calls.read(`GET /services?filters={"label":["com.docker.stack.namespace=${stack}"]}`);
  const after = await listStackServices(deps.docker, stack, boundedSignal(signal, deps.timeouts.dockerMs));
  if (after.length === 0)
    return result('failed', `docker stack deploy ${stack} succeeded but the stack has no service`, before);
  const pending: string[] = [];
  for (const s of after) {
    calls.read(`poll GET /services/${s.id} and GET /tasks until ${s.name} runs its replicas`);
    const verdict = await waitServiceConverged(s.id, undefined, req, deps);
    if (verdict.state !== 'converged') pending.push(`${s.name}: ${verdict.why}`);
  }
  if (pending.length > 0)
    return result('failed', `stack ${stack} deployed but not converged: ${pending.join('; ')}`, before);
  return result(
    'done',
    `${req.removeStackFirst ? 'removed and ' : ''}redeployed stack ${stack} from ${file}: ${after.map((s) => `${s.name} v${s.version}`).join(', ')} converged`,
    before,
  );
}

function cliFailure(out: DockerCliOutcome): string {
  const text = (out.stderr || out.stdout).trim().split('\n').slice(-3).join(' | ');
  return out.timedOut ? `timed out${text ? `: ${text}` : ''}` : `exit ${out.exitCode ?? '?'}${text ? `: ${text}` : ''}`;
}

interface DockerCliOutcome {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** The docker CLI this host has: the newer client in /usr/local/bin first, else whatever PATH finds. */
function dockerCliPath(deps: Pick<ActionDeps, 'dockerCli'>): string {
  if (deps.dockerCli) return deps.dockerCli;
  return existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker';
}

/**
 * Runs the docker CLI for what only it does (`docker stack deploy` is client-side). argv only, no shell: stack names
 * and file paths are never interpreted. DOCKER_HOST is the configured daemon; the rest of the environment stays, since
 * the stack file may interpolate ${VARS} from it. The whole process group is killed at the deadline or on abort.
 */
async function runDockerCli(
  deps: Pick<ActionDeps, 'dockerCli' | 'dockerCliEnv' | 'dockerHost'>,
  args: readonly string[],
  opts: { readonly timeoutMs: number; readonly signal: AbortSignal },
): Promise<DockerCliOutcome> {
  const result = await execa(dockerCliPath(deps), args, {
    env: { ...deps.dockerCliEnv, DOCKER_HOST: deps.dockerHost, DOCKER_CLI_HINTS: 'false' },
    extendEnv: true,
    timeout: opts.timeoutMs,
    cancelSignal: opts.signal,
    forceKillAfterDelay: 2_000,
    reject: false,
    stdin: 'ignore',
    maxBuffer: 4 * 1024 * 1024,
    encoding: 'utf8',
  });
  return {
    exitCode: result.exitCode,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: result.timedOut === true,
  };
}
