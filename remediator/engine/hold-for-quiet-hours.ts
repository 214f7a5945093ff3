import type { Incident } from '../incidents/incident.js';
import { WINDOW_END_SEARCH_MS, type QuietWindow } from '../quiet/quiet-window.js';
import type { RuleConfig } from '../remediator-section.js';
import { closeIncident } from './close-incident.js';
import type { EngineContext } from './engine-context.js';

/**
 * The quiet-hours gate before an incident is driven: inside its rule's quiet window it is dropped (quiet_mode drop)
 * or deferred to the window's end. 'go': not quiet, drive it now; 'closed': the incident ended here; 'deferred': the
 * caller arms the re-check at `inc.deferredUntil`.
 */
export async function holdForQuietHours(
  ctx: EngineContext,
  inc: Incident,
  rule: RuleConfig,
  window: QuietWindow | undefined,
  now: number,
): Promise<'go' | 'closed' | 'deferred'> {
  if (!window?.isQuiet(now)) return 'go';
  if (rule.quiet_mode === 'drop') {
    ctx.metrics.skips.inc({ reason: 'quiet_drop' });
    await ctx.audit({
      kind: 'decision',
      decision: 'dropped',
      reason: 'quiet_hours',
      incident: inc.id,
      rule: inc.rule,
      target: inc.target,
      detail: `inside quiet window "${rule.quiet}"`,
    });
    await closeIncident(ctx, inc, 'dropped', 'quiet_hours', `inside quiet window "${rule.quiet}" (quiet_mode drop)`);
    return 'closed';
  }
  const end = window.endAfter(now) ?? now + WINDOW_END_SEARCH_MS;
  inc.phase = 'deferred';
  inc.deferredUntil = end;
  inc.updatedAt = now;
  ctx.metrics.skips.inc({ reason: 'quiet_defer' });
  await ctx.audit({
    kind: 'decision',
    decision: 'deferred',
    reason: 'quiet_hours',
    incident: inc.id,
    rule: inc.rule,
    target: inc.target,
    detail: `inside quiet window "${rule.quiet}"; re-check at ${new Date(end).toISOString()}`,
    until: new Date(end).toISOString(),
  });
  await ctx.save();
  if (inc.cancelRequested) {
    await closeIncident(ctx, inc, 'resolved', 'resolved', 'every alert of the incident resolved while deferring');
    return 'closed';
  }
  return 'deferred';
}
