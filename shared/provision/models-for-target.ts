import type { ModelConfig } from '../config/types.js';

/** The models of the `models:` list that belong on a target: those naming it, and those naming no target at all. */
export function modelsForTarget(models: readonly ModelConfig[], target: string): ModelConfig[] {
  return models.filter((m) => m.targets.length === 0 || m.targets.includes(target));
}
