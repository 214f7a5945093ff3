import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import { diagnoseTarget } from '../../shared/diagnosis/diagnose-target.js';
import { swarmServiceName } from '../../shared/docker/container-list-filter.js';
import type { Logger } from '../../shared/log/create-logger.js';
import type { ActionDeps } from '../actions/action.js';
import { actionHappened } from '../actions/action-happened.js';
import { checkContainerGpuAccess } from '../actions/check-container-gpu-access.js';
import { runAction } from '../actions/run-action.js';
import { inspectService } from '../actions/swarm-service.js';
import { blankObservation, readExporterObservation } from '../engine/read-exporter-observation.js';
import type { RemediationPorts } from '../engine/remediation-ports.js';
import type { RemediatorConfig } from '../remediator-section.js';
import { verifyRecovery } from '../verify/verify-recovery.js';

export interface PortsOptions {
  readonly cfg: RemediatorConfig;
  readonly actionDeps: ActionDeps;
  readonly log: Logger;
  /** Authorization header for the exporter, when it requires basic auth. */
  readonly exporterAuth?: string;
  /** Deadline for the first token once the model is loaded, during verification. */
  readonly firstTokenTimeoutMs: number;
  readonly fetch?: typeof fetch;
  /** The remediator's clock (ms); default Date.now. */
  readonly now?: () => number;
}

/** Margin between the exporter's wait for fresh samples and this side's request timeout. */
const FRESH_MARGIN_MS = 500;

/**
 * The real outside world: the exporter's /api/state (fetched with a timeout) plus the remediator's own
 * `nvidia-smi -L` inside the container build the diagnosis; the real actions act; verifyRecovery verifies.
 */
export function createRemediationPorts(o: PortsOptions): RemediationPorts {
  const doFetch = o.fetch ?? fetch;
  const now = o.now ?? Date.now;
  return {
    async diagnose(target, signal) {
      let observation = blankObservation(target.name);
      let observedAtMs: number | null = null;
      let source: string;
      try {
        // fresh=1: the exporter samples the target now (all sources within ~1 s) instead of serving its cache.
        const wait = Math.max(100, o.cfg.exporter_timeout_ms - FRESH_MARGIN_MS);
        const query = `target=${encodeURIComponent(target.name)}&fresh=1&wait_ms=${wait}`;
        const res = await doFetch(`${o.cfg.exporter_url.replace(/\/+$/, '')}/api/state?${query}`, {
          headers: { accept: 'application/json', ...(o.exporterAuth ? { authorization: o.exporterAuth } : {}) },
          signal: AbortSignal.any([signal, AbortSignal.timeout(o.cfg.exporter_timeout_ms)]),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const doc: unknown = await res.json();
        const read = readExporterObservation(doc, target.name);
        if ('problem' in read) source = `exporter: ${read.problem}`;
        else {
          observation = read.observation;
          observedAtMs = onOurClock(observation.observedAtMs, doc, now());
          source = 'exporter';
        }
      } catch (err) {
        source = `exporter unavailable (${(err as Error).message})`;
        o.log.warn(
          { target: target.name, err: (err as Error).message },
          'cannot read the exporter state; diagnosing from direct checks only',
        );
      }
      // Checked directly, now: the exporter's value may be minutes old and this decides restart vs not.
      const checkedAt = now();
      const access = await checkContainerGpuAccess(target, o.actionDeps, signal).catch(() => null);
      if (access !== null) observation = { ...observation, containerGpuAccess: access };
      // Without the exporter's data, everything else is unknown, not old: the direct check alone dates the picture.
      if (source !== 'exporter' && access !== null) observedAtMs = checkedAt;
      return {
        // A fresh=1 observation's sources were started together (an older exporter's cached one carries no time
        // and is refused as stale): cross-source findings need no second sample.
        diagnosis: diagnoseTarget(observation, { sampledTogether: source === 'exporter' }),
        source: `${source}; container GPU access ${access === null ? 'unknown' : access ? 'ok' : 'LOST'}`,
        observedAtMs,
        observation,
      };
    },
    runStep: (req) => runAction(req, o.actionDeps),
    actionHappened: (action, before, target, signal) => actionHappened(action, before, target, o.actionDeps, signal),
    async verify(target: OllamaTargetConfig, model: ModelConfig | undefined, signal, opts) {
      // A manager's remediator probes no node: its target URL is its own loopback, which serves none or one node.
      if (o.cfg.node_scope === 'fleet')
        return { healthy: null, detail: "node_scope fleet: recovery is every node's alerts resolving, not one probe" };
      if (!model)
        return { healthy: null, detail: `no model is configured for target "${target.name}": nothing to probe` };
      const v = await verifyRecovery(target, model, o.actionDeps, {
        signal,
        loadTimeoutMs: opts?.loadTimeoutMs ?? o.cfg.load_timeout_ms,
        firstTokenTimeoutMs: o.firstTokenTimeoutMs,
      });
      return { healthy: v.healthy, detail: v.detail };
    },
    async serviceReplicas(target, signal) {
      if (target.container?.kind !== 'swarm') throw new Error(`target ${target.name} is not a Swarm service`);
      const name = swarmServiceName(target.container);
      const bounded = () => AbortSignal.any([signal, AbortSignal.timeout(o.actionDeps.timeouts.dockerMs)]);
      const info = await inspectService(o.actionDeps.docker, name, bounded());
      if (!info) throw new Error(`no Swarm service ${name}`);
      // Its mode, never a count of tasks: a global service mid-update (or with nodes down) can have one task left.
      if (info.Spec.Mode?.Replicated === undefined) return 'global';
      return info.Spec.Mode.Replicated.Replicas ?? 1;
    },
  };
}

/**
 * The exporter dates its observation on its own clock, which may differ from this one (another host). Its document
 * says when it was generated on that same clock, so the observation's age is exact; placed before the moment the
 * answer arrived here, it errs by the transfer time only (milliseconds), never by the clocks' skew.
 */
export function onOurClock(observedAtMs: number | null, doc: unknown, receivedAtMs: number): number | null {
  if (observedAtMs === null) return null;
  const generated =
    doc && typeof doc === 'object' && 'generated_at' in doc && typeof doc.generated_at === 'string'
      ? Date.parse(doc.generated_at)
      : NaN;
  if (Number.isNaN(generated)) return observedAtMs;
  return receivedAtMs - Math.max(0, generated - observedAtMs);
}
