import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/log/create-logger.js';
import type { GroupSnapshots } from '../incidents/group-snapshots.js';
import type { IncidentBook } from '../incidents/incident-book.js';
import type { Incident, IncidentOutcome } from '../incidents/incident.js';
import type { SafetyLimits, SafetyState } from '../policy/safety-state.js';
import type { RemediatorMetrics } from '../remediator-metrics.js';
import type { RemediatorConfig, RuleConfig } from '../remediator-section.js';
import type { AuditEntry } from '../state/audit-log.js';
import type { Clock } from './clock.js';
import type { Notifier, RemediationPorts, Silencer } from './remediation-ports.js';

/** What the healing code needs from the engine; one object so the ladder walk and crash recovery share it. */
export interface EngineContext {
  readonly cfg: RemediatorConfig;
  readonly ports: RemediationPorts;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: RemediatorMetrics;
  readonly book: IncidentBook;
  /** What each Alertmanager group's latest notification listed as firing (node_scope fleet counts nodes with it). */
  readonly groups: GroupSnapshots;
  readonly safety: SafetyState;
  readonly limits: SafetyLimits;
  readonly silencer?: Silencer;
  readonly notifier?: Notifier;
  /** Fires when shutdown's grace for a running step is over. */
  readonly abortSteps: AbortSignal;
  stopping(): boolean;
  rule(name: string): RuleConfig | undefined;
  target(name: string): OllamaTargetConfig | undefined;
  /** The ModelConfig for a name (normalised), or the target's keep-warm model when no name is given. */
  model(target: string, name?: string): ModelConfig | undefined;
  save(): Promise<void>;
  /** Writes an audit line; false when the log cannot be written (acting is then refused). */
  audit(entry: AuditEntry): Promise<boolean>;
  /**
   * Parks the incident (phase waiting) on a named condition with its detail, and sets when it looks again by itself:
   * at `until` when the condition has a known end (a cooldown), otherwise after a backing-off interval. Not saved.
   */
  waitFor(inc: Incident, reason: string, detail: string, until?: number): void;
  /** Closes the incident, records why, removes its silence, notifies on escalation/failure, persists. */
  close(inc: Incident, outcome: IncidentOutcome, reason: string, detail: string): Promise<void>;
}
