import type { OllamaTargetConfig } from '../../shared/config/types.js';
import type { SelfConfig } from '../remediator-config.js';

/** Targets whose container selector points at the remediator itself: a configuration error, never acted on. */
export function selfConflicts(self: SelfConfig, targets: readonly OllamaTargetConfig[]): string[] {
  const out: string[] = [];
  for (const t of targets) {
    const c = t.container;
    if (!c) continue;
    if (c.kind === 'container' && self.container !== undefined && c.name.replace(/^\//, '') === self.container) out.push(`target "${t.name}" is the remediator's own container "${self.container}"`);
    if (c.kind === 'swarm') {
      const full = c.stack ? `${c.stack}_${c.service}` : c.service;
      if (self.swarm_service !== undefined && (c.service === self.swarm_service || full === self.swarm_service)) out.push(`target "${t.name}" is the remediator's own service "${self.swarm_service}"`);
      if (self.stack !== undefined && c.stack === self.stack) out.push(`target "${t.name}" lives in the remediator's own stack "${self.stack}" (redeploying it would restart the remediator)`);
    }
    if (c.kind === 'compose' && self.container !== undefined && `${c.project}-${c.service}-1` === self.container) out.push(`target "${t.name}" is the remediator's own compose container "${self.container}"`);
  }
  return out;
}
