import type { ActionName } from './actions/action.js';
import type { ListenConfig } from '../shared/http/listen-settings.js';

/** What to do with an alert that arrives inside its rule's quiet window. */
export type QuietMode = 'defer' | 'drop';

/** One `remediator.rules[]` entry: which alerts it takes and how it heals them. First matching rule wins. */
export interface RuleConfig {
  readonly name: string;
  /** Label equality; every pair must hold. */
  readonly match: Readonly<Record<string, string>>;
  /** Label regex, anchored at both ends (as Alertmanager's =~); every pair must hold. Source kept for explain. */
  readonly match_re: Readonly<Record<string, string>>;
  /** Explicit escalation ladder; absent = chosen from the diagnosis. */
  readonly ladder?: readonly ActionName[];
  /** 'auto' = the step that fits the diagnosis; an action name = always start there (still diagnosis-gated). */
  readonly start: 'auto' | ActionName;
  /** Overrides the global dry_run for this rule when set. */
  readonly dry_run?: boolean;
  /** Name of a quiet_hours window. */
  readonly quiet?: string;
  readonly quiet_mode: QuietMode;
  /** Label naming the model the alert is about (used by warm_up, reload and pull_model). */
  readonly model_label: string;
}

export interface QuietWindowConfig {
  /** IANA zone the cron expressions are read in. */
  readonly timezone: string;
  /** A minute is quiet when it matches any of these node-cron expressions. */
  readonly cron: readonly string[];
}

export interface ScheduleConfig {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly action: 'warm_up';
  /** Empty = every target. */
  readonly targets: readonly string[];
  /** Empty = the keep_warm models of each target. Normalised names. */
  readonly models: readonly string[];
}

/** The remediator's own deployment: never acted on, whatever a rule says. */
export interface SelfConfig {
  readonly container?: string;
  readonly swarm_service?: string;
  readonly stack?: string;
}

export interface SilenceConfig {
  readonly enabled: boolean;
  readonly alertmanager_url?: string;
  /** Upper bound of a silence: it expires by itself if the remediator dies while healing. */
  readonly duration_ms: number;
  readonly bearer_token_file?: string;
}

export interface NotifyConfig {
  readonly url: string;
  readonly bearer_token_file?: string;
  readonly timeout_ms: number;
}

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
