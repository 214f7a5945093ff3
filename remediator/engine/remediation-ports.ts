import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { Diagnosis } from '../../shared/diagnosis/diagnose-target.js';
import type { TargetObservation } from '../../shared/diagnosis/target-observation.js';
import type { ActionName, ActionRequest, ActionResult } from '../actions/action.js';

export interface DiagnosisReport {
  readonly diagnosis: Diagnosis;
  /** Where the observation came from, for the audit log. */
  readonly source: string;
  /**
   * When the observation was sampled, on the remediator's clock (ms); null when undated (an exporter that does not
   * say, or none). The engine acts only on an observation newer than what it acts on (see diagnose-fresh.ts).
   */
  readonly observedAtMs: number | null;
  /** The observation itself (the verification deadline and the runner-busy check read it). */
  readonly observation?: TargetObservation;
}

export interface VerifyOptions {
  /** Until the model answers after a step (it may have to load); default: the configured load_timeout. */
  readonly loadTimeoutMs?: number;
}

export interface VerifyVerdict {
  /** null: could not be verified (no model to probe with). */
  readonly healthy: boolean | null;
  readonly detail: string;
}

/**
 * Everything the engine does to the outside world, behind one interface: the command wires the real actions,
 * verification and the exporter; unit tests pass fakes that record what they were asked.
 */
export interface RemediationPorts {
  diagnose(target: OllamaTargetConfig, signal: AbortSignal): Promise<DiagnosisReport>;
  runStep(req: ActionRequest): Promise<ActionResult>;
  actionHappened(
    action: ActionName,
    before: Record<string, unknown>,
    target: OllamaTargetConfig,
    signal: AbortSignal,
  ): Promise<boolean | null>;
  verify(
    target: OllamaTargetConfig,
    model: ModelConfig | undefined,
    signal: AbortSignal,
    opts?: VerifyOptions,
  ): Promise<VerifyVerdict>;
  /**
   * node_scope fleet: the replicas of the target's replicated service, or 'global' (GET /services on the manager); one
   * replica means a restart touches one node only. Absent: never known (a fault must then be seen on fleet_min_nodes
   * nodes).
   */
  serviceReplicas?(target: OllamaTargetConfig, signal: AbortSignal): Promise<number | 'global'>;
}

export interface SilenceRequest {
  readonly matchers: readonly { readonly name: string; readonly value: string }[];
  readonly endsAt: number;
  readonly comment: string;
}

/** Alertmanager silences over an incident while it is being healed. */
export interface Silencer {
  create(req: SilenceRequest, signal: AbortSignal): Promise<string>;
  remove(id: string, signal: AbortSignal): Promise<void>;
}

export interface NotifyEvent {
  readonly event: 'escalated' | 'failed' | 'breaker_tripped';
  readonly at: string;
  readonly detail: string;
  readonly incident?: {
    readonly id: string;
    readonly rule: string;
    readonly target: string;
    readonly condition?: string;
    readonly status: string;
    readonly reason?: string;
  };
}

/** A webhook told when humans are needed. */
export interface Notifier {
  send(event: NotifyEvent, signal: AbortSignal): Promise<void>;
}
