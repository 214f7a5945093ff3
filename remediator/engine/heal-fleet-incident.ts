import type { Incident, StepRecord } from '../incidents/incident.js';
import type { RuleConfig } from '../remediator-section.js';
import { checkStepSafety } from './check-step-safety.js';
import { closeIncident } from './close-incident.js';
import { dryRunLadder } from './dry-run-ladder.js';
import type { EngineContext } from './engine-context.js';
import { fleetGate } from './fleet-gate.js';
import { runRealStep } from './run-real-step.js';

/**
 * node_scope fleet, on a manager: the rule's ladder of service-level steps (checked at start: nothing else), taken
 * only for a fault firing on several nodes or on a service's sole task (fleetGate). The manager's remediator has no
 * node to diagnose or probe: its own Docker holds no target container and one exporter sees one node. Its evidence is
 * the nodes' alerts, evaluated by Prometheus on each node's exporter; a step's own check is the service converging
 * (every task restarted, in force_update_service), and recovery is every node's alerts resolving within
 * verify_timeout after the step (then the engine closes the incident as resolved). Still firing after that: the next
 * step, or the ladder is exhausted and the incident fails to the humans. Cooldowns, attempts and the breaker apply.
 */
export async function healFleetIncident(
  ctx: EngineContext,
  inc: Incident,
  rule: RuleConfig,
  dryRun: boolean,
): Promise<void> {
  const target = ctx.target(inc.target);
  if (!target)
    return closeIncident(ctx, inc, 'dropped', 'target_removed', `target "${inc.target}" is no longer configured`);
  const decided = { incident: inc.id, rule: inc.rule, target: inc.target, dry_run: dryRun };
  const last = lastRealStep(inc);
  if (last) {
    const until = (last.finishedAt ?? last.startedAt) + ctx.cfg.verify_timeout_ms;
    if (ctx.clock.now() < until)
      return wait(
        ctx,
        inc,
        'verifying',
        `${last.action} ${last.outcome ?? 'ran'}: waiting until ${new Date(until).toISOString()} (verify_timeout) for every node's alerts to resolve`,
        until,
      );
  }
  const gate = await fleetGate(ctx, inc, target);
  if (!gate.ok) {
    ctx.metrics.skips.inc({ reason: 'node_local' });
    await ctx.audit({ kind: 'decision', decision: 'skipped', reason: 'node_local', detail: gate.detail, ...decided });
    return wait(ctx, inc, 'node_local', gate.detail);
  }
  const ladder = rule.ladder ?? [];
  // The rule's `start` step, as on a node (the fleet has no diagnosis to pick one); never climbed down.
  if (rule.start !== 'auto') inc.ladderPos = Math.max(inc.ladderPos, ladder.indexOf(rule.start));
  if (dryRun) {
    const plan = { kind: 'act', condition: 'unknown', ladder, start: inc.ladderPos, detail: gate.proof } as const;
    return dryRunLadder(ctx, inc, target, plan, undefined, decided);
  }
  while (inc.ladderPos < ladder.length) {
    const i = inc.ladderPos;
    const action = ladder[i]!;
    if (inc.cancelRequested)
      return closeIncident(ctx, inc, 'resolved', 'resolved', 'every alert of the incident resolved');
    if (ctx.stopping()) {
      inc.phase = 'pending'; // resumed after the restart
      return;
    }
    const gateOfSafety = checkStepSafety(ctx, inc, action);
    if (!gateOfSafety.ok) {
      ctx.metrics.skips.inc({ reason: gateOfSafety.reason });
      const escalated = gateOfSafety.reason === 'max_attempts';
      await ctx.audit({
        kind: 'decision',
        decision: escalated ? 'escalated' : 'skipped',
        reason: gateOfSafety.reason,
        action,
        detail: gateOfSafety.detail,
        ...decided,
      });
      if (escalated) return closeIncident(ctx, inc, 'failed', 'max_attempts', gateOfSafety.detail);
      return wait(ctx, inc, gateOfSafety.reason, gateOfSafety.detail, gateOfSafety.until);
    }
    const outcome = await runRealStep(ctx, inc, target, action, i, undefined, `fleet-level fault: ${gate.proof}`);
    if (outcome === 'not_started')
      return wait(ctx, inc, 'not_recorded', 'the intent could not be written to the audit log and state: not acting');
    if (outcome === 'interrupted') return;
    if (outcome.outcome === 'skipped') continue; // nothing changed (a worker, not a Swarm target): the next step
    const until = ctx.clock.now() + ctx.cfg.verify_timeout_ms;
    return wait(
      ctx,
      inc,
      'verifying',
      `${action} ${outcome.outcome}: waiting until ${new Date(until).toISOString()} (verify_timeout) for every node's alerts to resolve`,
      until,
    );
  }
  const detail = `no step of [${ladder.join(', ')}] cleared the fault: its alerts still fire (${gate.proof})`;
  await ctx.audit({ kind: 'decision', decision: 'escalated', reason: 'ladder_exhausted', detail, ...decided });
  return closeIncident(ctx, inc, 'failed', 'ladder_exhausted', detail);
}

/** The last step that may have changed something (done, failed, or interrupted by a restart). */
function lastRealStep(inc: Incident): StepRecord | undefined {
  const last = inc.steps.filter((s) => !s.dryRun && s.outcome !== 'skipped').at(-1);
  return last;
}

async function wait(ctx: EngineContext, inc: Incident, reason: string, detail: string, until?: number): Promise<void> {
  ctx.waitFor(inc, reason, detail, until);
  await ctx.save().catch((err: Error) => ctx.log.error({ err: err.message }, 'cannot save state'));
}
