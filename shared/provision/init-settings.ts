/** The `init:` section as loadConfig stores it (durations in milliseconds). */
export interface InitSettings {
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
