// Verification deadlines fit the model (its measured load time), the ladder skips steps that cannot cure what was
// seen (an unload request that times out: the server is stuck), and a busy runner is not reloaded under its users.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';
import { decisions, makeHarness } from '../../../helpers/engine-harness.js';
import { verifyLoadDeadlineMs } from '../../../../remediator/verify/judge-recovery.js';
import type { TargetObservation } from '../../../../shared/diagnosis/target-observation.js';

const measured = (loadSeconds: number | null): TargetObservation => {
  const o = CONDITIONS_OBS.hung();
  return { ...o, configured: o.configured.map((c) => ({ ...c, loadSeconds })) };
};

describe('remediation engine: steps fitted to the model and to what was seen', () => {
  it('deadline = max(30 s, 1.5 x measured load), else the configured load_timeout', () => {
    assert.equal(verifyLoadDeadlineMs(10, 300_000), 30_000);
    assert.equal(verifyLoadDeadlineMs(40, 300_000), 60_000);
    assert.equal(verifyLoadDeadlineMs(600, 300_000), 900_000, 'a slow 70B gets longer than the default');
    assert.equal(verifyLoadDeadlineMs(null, 300_000), 300_000);
    assert.equal(verifyLoadDeadlineMs(0, 300_000), 300_000, 'never measured');
  });

  it('the reload and its verification get the fitted deadline', async () => {
    for (const [loadSeconds, expected] of [
      [40, 60_000],
      [null, 300_000],
    ] as const) {
      const h = makeHarness();
      try {
        h.ports.obs = () => measured(loadSeconds);
        await h.send({});
        assert.deepEqual(h.ports.real(), ['reload@main']);
        assert.equal(h.ports.steps[0]!.deadlineMs, expected);
        assert.deepEqual(h.ports.verifyOpts, [{ loadTimeoutMs: expected }]);
      } finally {
        await h.dispose();
      }
    }
  });

  it('an unload request that times out skips kill_runner and goes to the restart, without verifying the reload', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.step = async (req) =>
        req.action === 'reload'
          ? {
              outcome: 'failed',
              detail: 'no answer',
              calls: [],
              serverStuck: 'unload request (keep_alive 0) timed out',
            }
          : { outcome: 'done', detail: `${req.action} ran`, calls: [] };
      await h.send({});
      assert.deepEqual(h.ports.real(), ['reload@main', 'restart_container@main']);
      assert.equal(h.ports.verified.length, 1, 'only the restart is verified');
      const skip = h.audit.find((e) => e.reason === 'server_stuck')!;
      assert.equal(skip.decision, 'skipped');
      assert.match(skip.detail!, /skipping \[kill_runner\] for restart_container/);
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'healed');
    } finally {
      await h.dispose();
    }
  });

  it('a reload that changed nothing (the model never unloaded) is not verified; the ladder goes on', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.step = async (req) =>
        req.action === 'reload'
          ? { outcome: 'failed', detail: 'never unloaded', calls: [], unchanged: true }
          : { outcome: 'done', detail: `${req.action} ran`, calls: [] };
      await h.send({});
      assert.deepEqual(h.ports.real(), ['reload@main', 'kill_runner@main']);
      assert.equal(h.ports.verified.length, 1);
    } finally {
      await h.dispose();
    }
  });

  it('a busy runner is not reloaded: deferred, audited runner_busy', async () => {
    const h = makeHarness();
    try {
      const o = CONDITIONS_OBS.hung();
      h.ports.obs = () => ({
        ...o,
        loaded: o.loaded.map((m) => ({ ...m, runnerPid: 4321 })),
        runners: [
          {
            pid: 4321,
            modelBlob: 'sha256-ab',
            slots: 1,
            vramBytes: 8e9,
            progress: 'progressing',
            flatForMs: 0,
            startedAtMs: null,
          },
        ],
      });
      await h.send({});
      assert.deepEqual(h.ports.real(), []);
      assert.deepEqual(decisions(h.audit).slice(-1), ['decision:skipped:runner_busy:reload']);
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.phase, 'waiting');
      assert.match(inc.reason!, /^runner_busy: the runner of llama3:latest \(pid 4321\) is busy/);
      assert.equal(inc.attempts, 0);
    } finally {
      await h.dispose();
    }
  });
});
