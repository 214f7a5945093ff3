import type Dockerode from 'dockerode';
import type { LoadedConfig } from '../../shared/config/load-config.js';
import { queryComputeApps } from '../../shared/gpu/query-compute-apps.js';
import type { Logger } from '../../shared/log/create-logger.js';
import { OllamaClient } from '../../shared/ollama/ollama-client.js';
import type { ActionDeps, ActionTimeouts, OwnershipHistory, SelfIdentity } from '../actions/action.js';
import type { RemediatorConfig } from '../remediator-section.js';

/** The real dependencies of the actions, from the validated configuration. */
export function buildActionDeps(
  config: LoadedConfig,
  cfg: RemediatorConfig,
  docker: Dockerode,
  self: SelfIdentity,
  log: Logger,
  env: Readonly<Record<string, string | undefined>>,
  history?: OwnershipHistory,
): ActionDeps {
  const clients = new Map<string, OllamaClient>();
  return {
    docker,
    log,
    gpu: config.gpu,
    procRoot: config.gpu.proc_root,
    self,
    now: () => Date.now(),
    ollama(target) {
      let c = clients.get(target.name);
      if (!c) clients.set(target.name, (c = new OllamaClient(target, { userAgent: 'ollama-sentinel-remediator' })));
      return c;
    },
    queryComputeApps: (signal) => queryComputeApps(config.gpu, { signal }),
    timeouts: actionTimeouts(config, cfg),
    killGraceMs: cfg.kill_grace_ms,
    ...(history ? { history } : {}),
    dockerHost: config.docker.host,
    // The docker CLI (stack deploy) keeps its registry credentials where the operator's DOCKER_CONFIG says.
    ...(env.DOCKER_CONFIG ? { dockerCliEnv: { DOCKER_CONFIG: env.DOCKER_CONFIG } } : {}),
    ...(cfg.stop_timeout_ms !== undefined ? { stopTimeoutS: Math.ceil(cfg.stop_timeout_ms / 1000) } : {}),
  };
}

/** The actions' waits from the configuration (docker.timeout and the remediator's *_timeout settings). */
export function actionTimeouts(config: Pick<LoadedConfig, 'docker'>, cfg: RemediatorConfig): ActionTimeouts {
  return {
    dockerMs: config.docker.timeout_ms,
    containerReadyMs: cfg.container_ready_timeout_ms,
    convergeMs: cfg.converge_timeout_ms,
    stackCommandMs: cfg.stack_command_timeout_ms,
    loadMs: cfg.load_timeout_ms,
    pullMs: cfg.pull_timeout_ms,
    execMs: cfg.exec_timeout_ms,
  };
}
