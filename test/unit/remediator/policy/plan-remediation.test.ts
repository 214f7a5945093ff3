import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSelector } from '../../../../shared/config/types.js';
import {
  diagnoseTarget,
  type Condition,
  type Diagnosis,
  type SuggestedAction,
} from '../../../../shared/diagnosis/diagnose-target.js';
import type { TargetObservation } from '../../../../shared/diagnosis/target-observation.js';
import { RESTART_FAMILY } from '../../../../remediator/policy/ladder-families.js';
import { planRemediation, type PlanInput } from '../../../../remediator/policy/plan-remediation.js';
import { CONDITIONS_OBS, observation } from '../../../helpers/observation.js';

const compose: ContainerSelector = { kind: 'compose', project: 'ai', service: 'ollama' };
const swarm: ContainerSelector = { kind: 'swarm', service: 'ollama', stack: 'ai', stack_file: '/srv/ai.yml' };

function plan(obs: TargetObservation, over: Partial<PlanInput> = {}) {
  return planRemediation({
    diagnosis: diagnoseTarget(obs),
    rule: { start: 'auto' },
    selector: compose,
    ladderPos: 0,
    ...over,
  });
}

describe('planRemediation', () => {
  it('GPU access lost: restart at once, never a warm-up or reload first', () => {
    const p = plan(CONDITIONS_OBS.gpuAccessLost());
    assert.equal(p.kind, 'act');
    if (p.kind !== 'act') return;
    assert.deepEqual(p.ladder, ['restart_container', 'recreate_container']);
    assert.equal(p.start, 0);
    const explicit = plan(CONDITIONS_OBS.gpuAccessLost(), {
      rule: { ladder: ['warm_up', 'reload', 'restart_container', 'recreate_container'], start: 'auto' },
    });
    assert.ok(explicit.kind === 'act');
    if (explicit.kind === 'act') assert.equal(explicit.ladder[explicit.start], 'restart_container');
    const onSwarm = plan(CONDITIONS_OBS.gpuAccessLost(), { selector: swarm });
    assert.ok(onSwarm.kind === 'act');
    if (onSwarm.kind === 'act') assert.deepEqual(onSwarm.ladder, ['force_update_service', 'redeploy_stack']);
  });

  it('hung runner: reload, then kill_runner, then restart; model from the finding', () => {
    const p = plan(CONDITIONS_OBS.hung());
    assert.ok(p.kind === 'act');
    if (p.kind !== 'act') return;
    assert.equal(p.condition, 'probe_hung');
    assert.deepEqual(p.ladder, ['reload', 'kill_runner', 'restart_container', 'recreate_container']);
    assert.equal(p.start, 0);
    assert.equal(p.model, 'llama3:latest');
  });

  it('orphans -> kill_orphans; missing model -> pull_model; a silent CPU fallback -> restart', () => {
    const o = plan(CONDITIONS_OBS.orphans());
    assert.ok(o.kind === 'act' && o.ladder[o.start] === 'kill_orphans');
    const m = plan(CONDITIONS_OBS.missing());
    assert.ok(m.kind === 'act' && m.ladder[m.start] === 'pull_model' && m.ladder.length === 1);
    const c = plan(CONDITIONS_OBS.onCpu());
    assert.ok(c.kind === 'act' && RESTART_FAMILY.includes(c.ladder[c.start]!));
  });

  it('escalation-only failures are never acted on, whatever the rule says', () => {
    const everything = {
      ladder: [...RESTART_FAMILY, 'reload', 'kill_runner', 'kill_orphans', 'warm_up', 'pull_model'] as const,
      start: 'auto' as const,
    };
    for (const [name, obs] of Object.entries({
      partial: CONDITIONS_OBS.partial(),
      oom: CONDITIONS_OBS.oom(),
      busy: CONDITIONS_OBS.busy(),
      gpuLost: CONDITIONS_OBS.gpuLost(),
      ecc: CONDITIONS_OBS.ecc(),
    })) {
      for (const rule of [{ start: 'auto' as const }, everything]) {
        const p = plan(obs, { rule });
        assert.equal(p.kind, 'escalate', `${name} must escalate`);
        if (p.kind === 'escalate') assert.equal(p.reason, 'escalation_only');
      }
    }
    // A host GPU fault wins over a container problem: restarting cannot fix the host.
    const both = plan(
      observation({
        containerGpuAccess: false,
        gpus: [{ uuid: 'GPU-1', lost: true, eccUncorrectedVolatile: null, memoryUsedBytes: null }],
      }),
    );
    assert.equal(both.kind, 'escalate');
  });

  it('healthy -> cleared; not enough data -> inconclusive (wait, do nothing)', () => {
    assert.deepEqual(plan(observation()).kind, 'skip');
    const h = plan(observation());
    assert.ok(h.kind === 'skip' && h.reason === 'cleared');
    const u = plan(CONDITIONS_OBS.unknown());
    assert.ok(u.kind === 'skip' && u.reason === 'inconclusive');
    const once = plan(observation({ probes: [{ model: 'llama3:latest', result: 'timeout', consecutiveFailures: 1 }] }));
    assert.ok(once.kind === 'skip' && once.reason === 'inconclusive', 'one slow probe is not a hang');
  });

  it('a ladder with no fitting step escalates instead of doing something else', () => {
    const p = plan(CONDITIONS_OBS.gpuAccessLost(), { rule: { ladder: ['warm_up', 'reload'], start: 'auto' } });
    assert.ok(p.kind === 'escalate' && p.reason === 'no_fitting_step');
    const noContainer = plan(CONDITIONS_OBS.gpuAccessLost(), { selector: undefined });
    assert.ok(noContainer.kind === 'escalate', 'without a container there is nothing to restart');
  });

  it('never climbs down: the start respects the position reached and an explicit start step', () => {
    const ladder = ['reload', 'kill_runner', 'restart_container'] as const;
    const p = plan(CONDITIONS_OBS.hung(), { ladder, ladderPos: 2, rule: { start: 'auto' } });
    assert.ok(p.kind === 'act' && p.start === 2);
    const done = plan(CONDITIONS_OBS.hung(), { ladder, ladderPos: 3, rule: { start: 'auto' } });
    assert.ok(done.kind === 'escalate' && done.reason === 'ladder_exhausted');
    const explicit = plan(CONDITIONS_OBS.hung(), { rule: { ladder: [...ladder], start: 'kill_runner' } });
    assert.ok(explicit.kind === 'act' && explicit.start === 1);
  });
});

describe('planRemediation: the conditions of current Ollama', () => {
  const diag = (condition: Condition, action: SuggestedAction): Diagnosis => ({
    target: 'main',
    status: condition,
    findings: [{ condition, action, model: 'llama3:latest', detail: `${condition} seen` }],
  });
  const planOf = (condition: Condition, action: SuggestedAction, selector: ContainerSelector = compose) =>
    planRemediation({ diagnosis: diag(condition, action), rule: { start: 'auto' }, selector, ladderPos: 0 });

  it('runner_crashed: a reload first (the lightest cure), then the restart steps; no runner left to kill', () => {
    const p = planOf('runner_crashed', 'reload');
    assert.equal(p.kind, 'act');
    if (p.kind !== 'act') return;
    assert.deepEqual(p.ladder, ['reload', 'restart_container', 'recreate_container']);
    assert.equal(p.start, 0);
    assert.equal(p.model, 'llama3:latest');
  });

  it('load_stalled: the restart steps', () => {
    const p = planOf('load_stalled', 'restart', swarm);
    assert.ok(p.kind === 'act');
    if (p.kind === 'act') assert.deepEqual(p.ladder, ['force_update_service', 'redeploy_stack']);
  });

  it('runner_busy_too_long: humans only, never acted on', () => {
    const p = planOf('runner_busy_too_long', 'escalate');
    assert.equal(p.kind, 'escalate');
    if (p.kind === 'escalate') assert.equal(p.reason, 'escalation_only');
  });

  it('model_loading and runner_busy are normal: skipped as such, not as inconclusive; unknown stays inconclusive', () => {
    for (const [c, a] of [
      ['model_loading', 'wait'],
      ['runner_busy', 'none'],
    ] as const) {
      const p = planOf(c, a);
      assert.equal(p.kind, 'skip');
      if (p.kind === 'skip') assert.equal(p.reason, 'normal', c);
    }
    const u = planOf('unknown', 'wait');
    assert.ok(u.kind === 'skip' && u.reason === 'inconclusive');
  });
});
