/** The safety limits' memory; persisted with the incidents so a restart does not reset them. */
export interface BreakerState {
  open: boolean;
  trippedAt?: number;
  /** Times of real actions inside the window. */
  actions: number[];
  resetAt?: number;
  resetBy?: string;
}

export interface SafetyState {
  /** "<target>/<action>" -> time of the last real action. */
  cooldowns: Record<string, number>;
  breaker: BreakerState;
}

export interface SafetyLimits {
  readonly cooldownMs: number;
  readonly maxAttemptsPerIncident: number;
  readonly breakerMaxActions: number;
  readonly breakerWindowMs: number;
}

export function emptySafetyState(): SafetyState {
  return { cooldowns: {}, breaker: { open: false, actions: [] } };
}

export function cooldownKey(target: string, action: string): string {
  return `${target}/${action}`;
}
