import type { ConfigIssues } from '../../shared/config/config-issues.js';
import type { ActionName } from '../actions/action.js';
import { SERVICE_LEVEL } from '../actions/prove-own-node.js';
import type { RuleConfig } from './validate-rules.js';
import type { ScheduleConfig } from './validate-schedules.js';

/**
 * node_scope fleet: the remediator on a manager restarts a service on EVERY node, so it may take service-level steps
 * only, each named by its rule (a ladder chosen from one target's diagnosis would hold node-local steps, which this
 * remediator's Docker cannot reach); node-local work (schedules' warm-ups) belongs to each node's own remediator.
 * Of those, force_update_service only: every manager's fleet remediator hears the same alerts, and only the force
 * update carries the heal marker that lets one of them act and the others stand down; a redeploy_stack from each
 * manager would redeploy the fleet once per manager.
 */
const FLEET_STEPS: readonly ActionName[] = ['force_update_service'];

export function checkFleetScope(
  rules: readonly RuleConfig[],
  schedules: readonly ScheduleConfig[],
  issues: ConfigIssues,
): void {
  const allowed = FLEET_STEPS.join(', ');
  rules.forEach((rule, i) => {
    const path = `remediator.rules[${i}]`;
    if (!rule.ladder) {
      issues.add(
        `${path}.ladder`,
        `rule "${rule.name}" names no ladder; node_scope fleet takes service-level steps only`,
        `write \`ladder: [force_update_service]\` (allowed: ${allowed}), or move the rule to the nodes' remediator config`,
      );
      return;
    }
    const local = rule.ladder.filter((a: ActionName) => !SERVICE_LEVEL.includes(a));
    if (local.length > 0)
      issues.add(
        `${path}.ladder`,
        `rule "${rule.name}" has node-local step(s) ${local.join(', ')}; node_scope fleet takes service-level steps only`,
        `keep only ${allowed} in this ladder; node-local steps belong in the nodes' remediator config (node_scope auto)`,
      );
    const unmarked = rule.ladder.filter((a: ActionName) => SERVICE_LEVEL.includes(a) && !FLEET_STEPS.includes(a));
    if (unmarked.length > 0)
      issues.add(
        `${path}.ladder`,
        `rule "${rule.name}" has ${unmarked.join(', ')}, which writes no heal marker: every manager's fleet remediator hears the alerts and each would run it`,
        `keep only ${allowed} in a node_scope fleet ladder; redeploy the stack by hand, or from a single remediator with node_scope off`,
      );
  });
  if (schedules.length > 0)
    issues.add(
      'remediator.schedules',
      `${schedules.length} schedule(s) warm models, a node-local job; node_scope fleet takes service-level steps only`,
      "remove them here and schedule them in the nodes' remediator config (node_scope auto)",
    );
}
