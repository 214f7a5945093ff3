import type { ConfigSection } from '../config/config-section.js';

/** The `init:` section as loadConfig stores it (durations in milliseconds). */
export interface InitConfig {
  readonly wait_timeout_ms: number;
  readonly stall_timeout_ms: number;
  readonly pull_retries: number;
  readonly retry_backoff_ms: number;
  readonly retry_backoff_max_ms: number;
  readonly verify: boolean;
  readonly verify_timeout_ms: number;
  readonly progress_interval_ms: number;
  readonly insecure: boolean;
}

/** Settings of `ollama-sentinel init` (model provisioning); also the defaults of the remediator's pull action. */
export const initSection: ConfigSection = {
  key: 'init',
  doc: 'Model provisioning (`init`): wait for Ollama, pull or create the configured models, optionally verify them on the GPU.',
  scalars: {
    wait_timeout: {
      kind: 'duration',
      default: '5m',
      min: 0,
      doc: 'How long to wait for the Ollama API to answer (and, with --check, for the models to be ready) before giving up.',
    },
    stall_timeout: {
      kind: 'duration',
      default: '60s',
      min: 100,
      doc: 'A pull or create that reports no progress for this long is aborted and retried (Ollama resumes partial downloads).',
    },
    pull_retries: {
      kind: 'int',
      default: 5,
      min: 0,
      max: 100,
      doc: 'Retries of a failed pull or create after the first attempt; permanent errors (unknown model) are never retried.',
    },
    retry_backoff: {
      kind: 'duration',
      default: '2s',
      min: 10,
      doc: 'First pause between attempts (waiting for Ollama, pull retries, --check polls); doubles each time, with jitter.',
    },
    retry_backoff_max: { kind: 'duration', default: '30s', min: 10, doc: 'Longest pause between attempts.' },
    verify: {
      kind: 'bool',
      default: false,
      doc: 'After provisioning, load each model (one at a time) and check it sits on the GPU and answers one token (same as --verify).',
    },
    verify_timeout: {
      kind: 'duration',
      default: '5m',
      min: 100,
      doc: 'Deadline for loading one model during verification, and again for its one-token answer.',
    },
    progress_interval: {
      kind: 'duration',
      default: '10s',
      min: 100,
      doc: 'How often a progress line is written when stderr is not a terminal (docker logs).',
    },
    insecure: {
      kind: 'bool',
      default: false,
      doc: 'Let Ollama pull from a registry over plain HTTP or with an unverified certificate.',
    },
  },
};
