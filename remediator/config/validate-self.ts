import type { ConfigIssues } from '../../shared/config/config-issues.js';
import { checkKeys, isRecord } from '../../shared/config/yaml-shapes.js';
import type { SelfConfig } from '../remediator-config.js';

/** `remediator.self`: where the remediator itself runs, so no rule can ever make it act on itself. */
export function validateSelf(raw: unknown, issues: ConfigIssues): SelfConfig {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) {
    issues.add('remediator.self', 'must be a mapping', 'write e.g. `self: {container: ollama-sentinel-remediator}` or `{swarm_service: ops_remediator, stack: ops}`');
    return {};
  }
  checkKeys(raw, ['container', 'swarm_service', 'stack'], 'remediator.self', issues);
  const out: Record<string, string> = {};
  for (const key of ['container', 'swarm_service', 'stack'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.trim() === '') issues.add(`remediator.self.${key}`, `expected a name, got ${JSON.stringify(v)}`, 'write the name as Docker shows it');
    else out[key] = v.replace(/^\//, '');
  }
  return out;
}
