import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkReadiness } from '../../../../remediator/wiring/start-remediator.js';
import { tempDir } from '../../../helpers/temp-dir.js';

describe('readiness', () => {
  it('is ready only with a writable data dir and a Docker Engine that answers', async () => {
    const t = await tempDir('ready');
    try {
      const ok = await checkReadiness(
        t.dir,
        async () => 'OK',
        () => true,
      );
      assert.deepEqual(ok, { ok: true, checks: { config: 'ok', data_dir: 'ok', docker: 'ok', accepting: 'ok' } });
      const bad = await checkReadiness(
        join(t.dir, 'missing'),
        async () => {
          throw new Error('connect ENOENT /var/run/docker.sock');
        },
        () => false,
      );
      assert.equal(bad.ok, false);
      assert.match(bad.checks.data_dir!, /not writable \(ENOENT\)/);
      assert.match(bad.checks.docker!, /unreachable/);
      assert.equal(bad.checks.accepting, 'shutting down');
    } finally {
      await t.remove();
    }
  });
});
