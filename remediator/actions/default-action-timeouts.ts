import type { ActionTimeouts } from './action.js';

/**
 * Defaults sized for one Ollama host: a restart waits out Docker's 10 s stop timeout plus a slow start; a Swarm force
 * update of one replica took ~15-17 s on the test machines; a cold load of a 20B model can take 30 s and more.
 */
export const DEFAULT_ACTION_TIMEOUTS: ActionTimeouts = {
  dockerMs: 15_000,
  containerReadyMs: 90_000,
  convergeMs: 180_000,
  stackCommandMs: 180_000,
  loadMs: 600_000,
  pullMs: 6 * 3600_000,
  execMs: 15_000,
};
