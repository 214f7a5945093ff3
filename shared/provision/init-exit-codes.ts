/**
 * Exit codes of `init`, distinct so a Compose `service_completed_successfully` dependency, a Swarm entrypoint or a
 * person can tell why it stopped. 1 and 2 are the CLI's own (unexpected failure or interruption; bad usage/config).
 * When several things fail, the lowest of these codes is returned (the earliest step that failed).
 */
export const INIT_EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  /** Ollama's API did not answer before init.wait_timeout. */
  UNREACHABLE: 3,
  /** A pull or create failed (permanent error, or retries used up). */
  FETCH_FAILED: 4,
  /** A model did not load mostly onto the GPU, or did not answer one token. */
  VERIFY_FAILED: 5,
  /** --check: a model was still missing (or not verified) at the deadline. */
  CHECK_UNSATISFIED: 6,
} as const;

export type InitExitCode = (typeof INIT_EXIT)[keyof typeof INIT_EXIT];
