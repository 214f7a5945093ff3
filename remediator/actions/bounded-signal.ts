/** `signal` plus a deadline of `ms`: whichever fires first aborts (the reason says which). */
export function boundedSignal(signal: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
}
