import { performance } from 'node:perf_hooks';

/**
 * Calls `fn` repeatedly for about `budgetMs` after a short warm-up (so the JIT has compiled it) and returns
 * calls per second. Bounded by time, not by count, so a slow function cannot stretch the run.
 */
export function measureOpsPerSecond(fn: () => unknown, budgetMs = 400): number {
  const warmEnd = performance.now() + Math.min(100, budgetMs / 4);
  while (performance.now() < warmEnd) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < budgetMs) {
    // Check the clock every few calls only: reading it costs about as much as a tiny parse.
    for (let i = 0; i < 16; i++) fn();
    n += 16;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}
