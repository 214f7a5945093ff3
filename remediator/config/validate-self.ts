import type { ConfigIssues } from '../../shared/config/config-issues.js';
import type { OllamaTargetConfig } from '../../shared/config/types.js';
import { checkKeys, isRecord } from '../../shared/config/yaml-shapes.js';

/** The remediator's own deployment: never acted on, whatever a rule says. */
export interface SelfConfig {
  readonly container?: string;
  readonly swarm_service?: string;
  readonly stack?: string;
}

/** `remediator.self`: where the remediator itself runs, so no rule can ever make it act on itself. */
export function validateSelf(raw: unknown, issues: ConfigIssues): SelfConfig {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) {
    issues.add(
      'remediator.self',
      'must be a mapping',
      'write e.g. `self: {container: ollama-sentinel-remediator}` or `{swarm_service: ops_remediator, stack: ops}`',
    );
    return {};
  }
  checkKeys(raw, ['container', 'swarm_service', 'stack'], 'remediator.self', issues);
  const out: Record<string, string> = {};
  for (const key of ['container', 'swarm_service', 'stack'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.trim() === '')
      issues.add(
        `remediator.self.${key}`,
        `expected a name, got ${JSON.stringify(v)}`,
        'write the name as Docker shows it',
      );
    else out[key] = v.replace(/^\//, '');
  }
  return out;
}

/** Targets whose container selector points at the remediator itself: a configuration error, never acted on. */
export function selfConflicts(self: SelfConfig, targets: readonly OllamaTargetConfig[]): string[] {
  const out: string[] = [];
  for (const t of targets) {
    const c = t.container;
    if (!c) continue;
    if (c.kind === 'container' && self.container !== undefined && c.name.replace(/^\//, '') === self.container)
      out.push(`target "${t.name}" is the remediator's own container "${self.container}"`);
    if (c.kind === 'swarm') {
      const full = c.stack ? `${c.stack}_${c.service}` : c.service;
      if (self.swarm_service !== undefined && (c.service === self.swarm_service || full === self.swarm_service))
        out.push(`target "${t.name}" is the remediator's own service "${self.swarm_service}"`);
      // Only redeploy_stack (which needs stack_file) touches the whole stack; force_update_service of another service
      // of the same stack leaves the remediator running, and the shipped single-host stack is exactly that.
      if (self.stack !== undefined && c.stack === self.stack && c.stack_file !== undefined)
        out.push(
          `target "${t.name}" lives in the remediator's own stack "${self.stack}" and names a stack_file (redeploying it would restart the remediator)`,
        );
    }
    if (c.kind === 'compose' && self.container !== undefined && `${c.project}-${c.service}-1` === self.container)
      out.push(`target "${t.name}" is the remediator's own compose container "${self.container}"`);
  }
  return out;
}
