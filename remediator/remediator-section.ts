import type { ConfigIssue, ConfigIssues } from '../shared/config/config-issues.js';
import type { ConfigSection } from '../shared/config/config-section.js';
import { checkListen, listenScalars, type ListenConfig } from '../shared/http/listen-settings.js';
import { checkFleetScope } from './config/validate-fleet-scope.js';
import { validateNotify, type NotifyConfig } from './config/validate-notify.js';
import { validateQuietHours, type QuietWindowConfig } from './config/validate-quiet-hours.js';
import { validateRules, type RuleConfig } from './config/validate-rules.js';
import { validateSchedules, type ScheduleConfig } from './config/validate-schedules.js';
import { validateSelf, type SelfConfig } from './config/validate-self.js';
import { validateSilence, type SilenceConfig } from './config/validate-silence.js';
import { parseNodeScope } from './node/own-node.js';

// Each complex part's type lives next to its validator; this file is the one place to import them from.
export type { NotifyConfig } from './config/validate-notify.js';
export type { QuietWindowConfig } from './config/validate-quiet-hours.js';
export type { QuietMode, RuleConfig } from './config/validate-rules.js';
export type { ScheduleConfig } from './config/validate-schedules.js';
export type { SelfConfig } from './config/validate-self.js';
export type { SilenceConfig } from './config/validate-silence.js';

/** The `remediator:` section as loadConfig stores it (durations in milliseconds). */
export interface RemediatorConfig extends ListenConfig {
  readonly bearer_token_file?: string;
  readonly insecure_no_auth: boolean;
  readonly max_body_bytes: number;
  readonly max_alerts_per_request: number;
  readonly data_dir: string;
  readonly dry_run: boolean;
  readonly exporter_url: string;
  readonly exporter_timeout_ms: number;
  readonly exporter_basic_auth_username?: string;
  readonly exporter_basic_auth_password_file?: string;
  readonly target_label: string;
  readonly default_single_target: boolean;
  /** "auto", "off", "fleet" or a Swarm node id: see node/own-node.ts. */
  readonly node_scope: string;
  readonly node_label: string;
  readonly require_node_label: boolean;
  /** node_scope fleet: distinct nodes an incident's firing alerts must come from before a service-level step. */
  readonly fleet_min_nodes: number;
  readonly cooldown_ms: number;
  readonly max_attempts_per_incident: number;
  readonly breaker_max_actions: number;
  readonly breaker_window_ms: number;
  readonly step_timeout_ms: number;
  readonly verify_timeout_ms: number;
  readonly lock_wait_ms: number;
  readonly shutdown_grace_ms: number;
  readonly history_size: number;
  readonly journal_segment_bytes: number;
  readonly audit_rotate_bytes: number;
  readonly audit_keep_files: number;
  readonly container_ready_timeout_ms: number;
  readonly converge_timeout_ms: number;
  readonly stack_command_timeout_ms: number;
  readonly load_timeout_ms: number;
  readonly pull_timeout_ms: number;
  readonly exec_timeout_ms: number;
  readonly kill_grace_ms: number;
  readonly stop_timeout_ms?: number;
  readonly rules: readonly RuleConfig[];
  readonly quiet_hours: Readonly<Record<string, QuietWindowConfig>>;
  readonly schedules: readonly ScheduleConfig[];
  readonly self: SelfConfig;
  readonly silence: SilenceConfig;
  readonly notify?: NotifyConfig;
}

/**
 * `remediator:` in the shared YAML file. Scalars can be overridden by SENTINEL_REMEDIATOR_* and
 * --remediator.* flags; rules, quiet hours, schedules, self, silence and notify live in the file only.
 */
export const remediatorSection: ConfigSection = {
  key: 'remediator',
  doc: 'The remediator: Alertmanager webhook in, safe healing of the Ollama stack out.',
  scalars: {
    ...listenScalars('127.0.0.1:9779'),
    bearer_token_file: {
      kind: 'string',
      optional: true,
      doc: 'File holding the bearer token Alertmanager sends (http_config.authorization.credentials_file).',
    },
    insecure_no_auth: {
      kind: 'bool',
      default: false,
      doc: 'Accept unauthenticated requests. Without it the remediator refuses to start unless a bearer token or basic auth is set.',
    },
    max_body_bytes: {
      kind: 'bytes',
      default: '1MiB',
      min: 1024,
      max: 64 * 1024 * 1024,
      doc: 'Largest webhook body accepted; bigger ones get 413.',
    },
    max_alerts_per_request: {
      kind: 'int',
      default: 1000,
      min: 1,
      max: 100_000,
      doc: 'Most alerts one POST may carry (a flood bound); more get 413.',
    },
    data_dir: {
      kind: 'string',
      default: '/var/lib/ollama-sentinel',
      doc: 'Journal, state and audit log (must be writable and survive restarts).',
    },
    dry_run: { kind: 'bool', default: false, doc: 'Decide and log every step, act on nothing (rules may override).' },
    exporter_url: {
      kind: 'string',
      default: 'http://127.0.0.1:9778',
      doc: "The exporter whose /api/state gives each target's observation.",
    },
    exporter_timeout: {
      kind: 'duration',
      default: '15s',
      min: 100,
      doc: "Limit for one /api/state request. The remediator asks for a fresh picture (fresh=1): the exporter samples the target's sources now and answers within this limit less 0.5 s, leaving sources still running unknown; keep it above the exporter's ollama_timeout + 1 s and gpu.timeout, or a source that hangs (e.g. /api/ps during a cold load) is unknown instead of failed.",
    },
    exporter_basic_auth_username: {
      kind: 'string',
      optional: true,
      doc: 'User for the exporter when it requires basic auth.',
    },
    exporter_basic_auth_password_file: { kind: 'string', optional: true, doc: 'Password file for the exporter.' },
    target_label: {
      kind: 'string',
      default: 'ollama',
      doc: 'Alert label naming the Ollama target (e.g. ollama="main").',
    },
    default_single_target: {
      kind: 'bool',
      default: true,
      doc: 'With exactly one target declared, alerts without target_label go to it.',
    },
    node_scope: {
      kind: 'string',
      default: 'auto',
      doc: "Which alerts this remediator acts on in a Swarm fleet (every node runs one, each target name on every node): auto = only those whose node_label equals this node's Swarm node id, as its own Docker says (GET /info, read at start, every minute and when an alert does not fit); a Swarm node id (25 characters, `docker node inspect self --format '{{.ID}}'`) = only that node's (Docker must agree when it is in a Swarm); off = every alert, whatever its node; fleet = the fleet remediator on a manager: every node's alert (each must name its node), service-level steps only (every rule's ladder holds only force_update_service, redeploy_stack), taken only for a fault firing on at least fleet_min_nodes nodes or on the service's sole task, and refused (reason not_manager) unless its Docker is a Swarm manager. Outside a Swarm, auto accepts every alert (a single host). Another node's alert is recorded, audited (the node it was for and this one) and counted as refused, reason other_node, answered 200; an alert whose node cannot be told (Docker does not answer) gets 503 so Alertmanager sends it again. Container-level steps prove the container is this node's (its com.docker.swarm.node.id label), and service-level steps are refused on a Swarm worker.",
    },
    node_label: {
      kind: 'string',
      default: 'node',
      doc: "Alert label naming the Swarm node (the fleet's Prometheus relabels every series with node = the node id).",
    },
    fleet_min_nodes: {
      kind: 'int',
      default: 2,
      min: 2,
      max: 10_000,
      doc: "node_scope fleet only: a service-level step (which restarts the service on every node) is taken for an incident whose firing alerts name at least this many distinct nodes, or whose service has exactly one task; a fault on fewer nodes is left to those nodes' remediators (audited node_local).",
    },
    require_node_label: {
      kind: 'bool',
      default: false,
      doc: 'In a Swarm, refuse alerts that name no node (reason no_node_label). Off by default: the single-host stack on a one-node Swarm has no node label; the fleet configuration turns it on.',
    },
    cooldown: {
      kind: 'duration',
      default: '10m',
      min: 0,
      doc: 'The same action on the same target is not repeated sooner.',
    },
    max_attempts_per_incident: {
      kind: 'int',
      default: 3,
      min: 1,
      max: 20,
      doc: 'Real actions one incident may take before it is marked failed and escalated.',
    },
    breaker_max_actions: {
      kind: 'int',
      default: 5,
      min: 1,
      max: 1000,
      doc: 'Actions (all targets) within breaker_window that trip the circuit breaker; it stays open until an operator resets it.',
    },
    breaker_window: { kind: 'duration', default: '1h', min: 1000, doc: 'Sliding window of the circuit breaker.' },
    step_timeout: { kind: 'duration', default: '15m', min: 1000, doc: 'Hard limit for one healing step.' },
    verify_timeout: {
      kind: 'duration',
      default: '5m',
      min: 1000,
      doc: "Limit for verifying recovery after a step (includes a model load); raised to the model's fitted load deadline + 1 min when that is longer (see load_timeout).",
    },
    lock_wait: {
      kind: 'duration',
      default: '30m',
      min: 0,
      doc: "How long an incident waits for its target's lock (another incident healing it) before it is skipped.",
    },
    shutdown_grace: {
      kind: 'duration',
      default: '60s',
      min: 0,
      doc: 'On SIGTERM, how long the running step may take to finish before it is aborted.',
    },
    history_size: {
      kind: 'int',
      default: 200,
      min: 10,
      max: 100_000,
      doc: 'Closed incidents kept in state and shown by /api/incidents.',
    },
    journal_segment_bytes: {
      kind: 'bytes',
      default: '8MiB',
      min: 4096,
      max: 1024 ** 3,
      doc: 'Size after which the alert journal starts a new segment (processed segments are deleted).',
    },
    audit_rotate_bytes: {
      kind: 'bytes',
      default: '64MiB',
      min: 4096,
      max: 64 * 1024 ** 3,
      doc: 'Size at which audit.jsonl is rotated while running (audit.jsonl -> audit.1.jsonl -> audit.2.jsonl ...), between records.',
    },
    audit_keep_files: {
      kind: 'int',
      default: 5,
      min: 1,
      max: 1000,
      doc: 'Rotated audit files kept (audit.1.jsonl is the newest); the oldest beyond them is deleted.',
    },
    // Action waits, sized for one Ollama host: a restart waits out Docker's 10 s stop timeout plus a slow start; a Swarm
    // force update of one replica took ~15-17 s on the test machines; a cold load of a 20B model can take 30 s and more.
    container_ready_timeout: {
      kind: 'duration',
      default: '2m',
      min: 1000,
      doc: 'Until a restarted container runs again.',
    },
    converge_timeout: {
      kind: 'duration',
      default: '3m',
      min: 1000,
      doc: 'Until a force-updated Swarm service has converged.',
    },
    stack_command_timeout: {
      kind: 'duration',
      default: '5m',
      min: 1000,
      doc: 'Limit of one `docker stack deploy`/`rm`.',
    },
    load_timeout: {
      kind: 'duration',
      default: '5m',
      min: 1000,
      doc: "Limit of one model load (warm_up, reload). Also how long verification waits for a model to load and answer after a step, and a reload for its unload, unless the model's cold load was measured (the exporter's configured[].loadSeconds): then max(30 s, 1.5 x that).",
    },
    pull_timeout: { kind: 'duration', default: '60m', min: 1000, doc: 'Limit of one model pull.' },
    exec_timeout: { kind: 'duration', default: '15s', min: 100, doc: 'Limit of `nvidia-smi -L` inside the container.' },
    kill_grace: {
      kind: 'duration',
      default: '10s',
      min: 0,
      doc: 'SIGTERM to SIGKILL grace when killing runner processes.',
    },
    stop_timeout: {
      kind: 'duration',
      optional: true,
      min: 0,
      max: 3_600_000,
      doc: "Grace Docker gives a container's process on restart/stop before SIGKILL; default: the container's own StopTimeout (10 s).",
    },
  },
  check: (values, issues) => {
    checkListen('remediator', values, issues);
    checkNodeScope(values, issues);
  },
  complexKeys: ['rules', 'quiet_hours', 'schedules', 'self', 'silence', 'notify'],
  complex(raw, issues, ctx, scalars) {
    const quietHours = validateQuietHours(raw.quiet_hours, issues);
    // Rules may only name windows that were declared, even if the window itself has problems (reported above).
    const declared = raw.quiet_hours && typeof raw.quiet_hours === 'object' ? Object.keys(raw.quiet_hours) : [];
    const notify = validateNotify(raw.notify, issues);
    const rules = validateRules(raw.rules, declared, issues);
    const schedules = validateSchedules(raw.schedules, ctx, issues);
    if (scalars.node_scope === 'fleet') checkFleetScope(rules, schedules, issues);
    return {
      rules,
      quiet_hours: quietHours,
      schedules,
      self: validateSelf(raw.self, issues),
      silence: validateSilence(raw.silence, issues),
      ...(notify ? { notify } : {}),
    };
  },
};

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkNodeScope(values: Readonly<Record<string, unknown>>, issues: ConfigIssues): void {
  const scope = values.node_scope;
  if (typeof scope === 'string' && parseNodeScope(scope) === null)
    issues.add(
      'remediator.node_scope',
      `${JSON.stringify(scope.slice(0, 80))} is not auto, off, fleet or a Swarm node id (25 lowercase letters and digits)`,
      "use auto (this node's id from its Docker), off, fleet (the fleet remediator on a manager), or the id `docker node inspect self --format '{{.ID}}'` prints",
    );
  const label = values.node_label;
  if (typeof label === 'string' && !LABEL_NAME_RE.test(label))
    issues.add(
      'remediator.node_label',
      `${JSON.stringify(label.slice(0, 80))} is not a Prometheus label name`,
      'write a label name: letters, digits and _, not starting with a digit (e.g. node)',
    );
}

/**
 * Why the remediator must not start with these credentials settings, or undefined. Anyone who can POST to the
 * webhook can restart containers, so running open is an explicit, visible choice (insecure_no_auth).
 */
export function authProblem(cfg: RemediatorConfig): ConfigIssue | undefined {
  // Half a basic-auth pair is already refused when the config is loaded (checkListen).
  const hasAuth = cfg.bearer_token_file !== undefined || cfg.basic_auth_username !== undefined;
  if (!hasAuth && !cfg.insecure_no_auth) {
    return {
      path: 'remediator.bearer_token_file',
      problem: 'no credentials configured',
      fix: 'set remediator.bearer_token_file (and/or basic auth), or remediator.insecure_no_auth: true to run without (not recommended)',
    };
  }
  return undefined;
}
