/**
 * Every action kind with the data dir's disk full (a small tmpfs): before a step's intent can be written, and from the
 * step's mutating call on (its result, the verification and the close cannot be written), with the process running on
 * until space is freed, or killed while the disk is still full and started again. Asserted each time: nothing is
 * done without a durable intent, nothing twice, every intent in the audit log has its result (or a recovery record),
 * and the incident ends closed or visibly waiting, never stuck. Needs root (mount); skipped otherwise.
 */
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ACTION_NAMES, type ActionName } from '../../../../remediator/actions/action.js';
import { StateStore } from '../../../../remediator/state/state-store.js';
import {
  readAudit,
  type AuditLine,
  settled,
  startDiskEngine,
  stepTrail,
  unexplainedIntents,
} from '../../../helpers/fault-engine.js';
import { CONTAINER_ID, faultWorld, type Connection, type FaultWorld } from '../../../helpers/fault-world.js';
import { SmallTmpfs, tmpfsSkip } from '../../../helpers/small-tmpfs.js';

const C = CONTAINER_ID.slice(0, 12);
/** What one clean run of each step does to its world. */
const CLEAN: Record<ActionName, readonly string[]> = {
  warm_up: ['load'],
  reload: ['unload', 'load'],
  pull_model: ['pull'],
  kill_runner: ['SIGTERM 101'],
  kill_orphans: ['SIGTERM 103'],
  restart_container: [`restart ${C}`],
  recreate_container: [`stop ${C}`, `start ${C}`],
  force_update_service: ['update svc1 v10 ForceUpdate 2 -> 3'],
  redeploy_stack: ['update svc1 v10 ForceUpdate 2 -> 2'],
};
const HEALED_TRAIL = ['intent', 'result:done', 'verify:healthy', 'close:healed'];

/** Lines kept while the disk was full carry the time they happened: the log reads in time order. */
function assertInOrder(audit: readonly AuditLine[]): void {
  const times = audit.map((l) => l.ts);
  assert.deepEqual(times, [...times].sort());
}

/** A world for `action` and a fresh data dir on the small disk; the disk is freed and the world disposed after. */
async function setUp(t: TestContext, disk: SmallTmpfs, action: ActionName) {
  const world = await faultWorld(action);
  const dir = await mkdtemp(join(disk.dir, 'data-'));
  t.after(async () => {
    disk.free();
    await world.dispose();
    await rm(dir, { recursive: true, force: true });
  });
  return { world, dir, conn: await world.connect() };
}

/**
 * The disk fills up the moment the step's mutating call reaches the world, after `padAudit` set how much room the
 * audit log's last page has; the call itself goes through. A signal is sent synchronously, so for the kills the page
 * is filled earlier, at their container list (after the intent: the step writes no audit line in between).
 */
function fillAtMutation(disk: SmallTmpfs, w: FaultWorld, conn: Connection, padAudit: () => Promise<void>): void {
  const m = w.mutation;
  if (m.server === 'signal') {
    conn.faults('docker').arm(w.serverCall.endpoint, { kind: 'none' }, { times: 1, onHit: padAudit });
    conn.faults('signal').arm(m.endpoint, { kind: 'none' }, { times: 1, onHit: () => disk.fill() });
    return;
  }
  conn.faults(m.server).arm(
    m.endpoint,
    { kind: 'none' },
    {
      times: 1,
      ...(m.when ? { when: m.when } : {}),
      onHit: async () => {
        await padAudit();
        disk.fill();
      },
    },
  );
}

const skip = tmpfsSkip();
for (const action of ACTION_NAMES) {
  describe(`${action} with the disk full`, { skip }, () => {
    let disk: SmallTmpfs;
    before(async () => {
      disk = await SmallTmpfs.mount(512);
    });
    after(async () => {
      await disk?.unmount();
    });

    for (const room of [true, false]) {
      const where = room ? 'the audit log has room for a few lines' : 'no room at all';
      it(`full before the intent (${where}): nothing done, it waits; freed and re-sent, heals once`, async (t) => {
        const { world: w, dir, conn } = await setUp(t, disk, action);
        let filled = false;
        const e = await startDiskEngine(w, conn, dir, {
          beforeDiagnosis: async () => {
            if (filled) return;
            filled = true;
            await e.fillAuditPage(room);
            disk.fill();
          },
        });
        await e.send();
        assert.deepEqual(w.effects, [], 'nothing is done without a durable intent');
        assert.equal(settled(e.incident()), 'waiting:not_recorded', e.diagnosisErrors.join('\n'));
        disk.free();
        await e.resend();
        await e.stop();
        assert.equal(settled(e.incident()), 'closed:healed');
        assert.deepEqual(w.effects, CLEAN[action]);
        const audit = await readAudit(dir);
        assert.equal(unexplainedIntents(audit, action), 0, JSON.stringify(stepTrail(audit)));
        // The first intent was written (or kept and written once freed), then said not to have started.
        assert.deepEqual(stepTrail(audit), ['intent', 'result:not_started', ...HEALED_TRAIL]);
        assertInOrder(audit);
      });

      it(`full from the mutating call on (${where}), running on until freed: log and state catch up`, async (t) => {
        const { world: w, dir, conn } = await setUp(t, disk, action);
        const e = await startDiskEngine(w, conn, dir);
        fillAtMutation(disk, w, conn, () => e.fillAuditPage(room));
        await e.send();
        assert.deepEqual(w.effects, CLEAN[action]);
        assert.equal(settled(e.incident()), 'closed:healed');
        disk.free();
        await e.stop();
        const audit = await readAudit(dir);
        assert.equal(unexplainedIntents(audit, action), 0, JSON.stringify(stepTrail(audit)));
        assert.deepEqual(stepTrail(audit), HEALED_TRAIL);
        assertInOrder(audit);
        const onDisk = (await StateStore.load(dir)).book.incidents[0]!;
        assert.equal(onDisk.status, 'healed');
        assert.equal(onDisk.inFlight, undefined);
      });
    }

    it('full from the mutating call on (no room at all), then killed: judged done, not twice', async (t) => {
      const { world: w, dir, conn } = await setUp(t, disk, action);
      const killed = await startDiskEngine(w, conn, dir);
      fillAtMutation(disk, w, conn, () => killed.fillAuditPage());
      await killed.send();
      const copy = await mkdtemp(join(tmpdir(), 'sentinel-full-'));
      t.after(() => rm(copy, { recursive: true, force: true }));
      cpSync(dir, copy, { recursive: true }); // what SIGKILL leaves while the disk is still full
      await conn.cut();
      await killed.stop();
      disk.free();
      const restarted = await startDiskEngine(w, await w.connect(), copy);
      await restarted.resume();
      await restarted.stop();
      assert.deepEqual(w.effects, CLEAN[action], 'not done again');
      assert.equal(settled(restarted.incident()), 'closed:healed');
      const verdict = action === 'reload' ? 'unknown' : 'true';
      assert.deepEqual(stepTrail(await readAudit(copy)), [
        'intent',
        `recovery:${verdict}`,
        'verify:healthy',
        'close:healed',
      ]);
    });
  });
}
