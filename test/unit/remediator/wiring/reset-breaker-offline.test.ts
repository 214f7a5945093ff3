import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { acquireInstanceLock } from '../../../../remediator/state/instance-lock.js';
import { resetBreakerFromCli } from '../../../../remediator/wiring/reset-breaker-offline.js';
import { emptyState } from '../../../../remediator/state/persisted-state.js';
import { StateStore } from '../../../../remediator/state/state-store.js';
import { writeFileAtomic } from '../../../../remediator/state/write-file-atomic.js';
import { localHttp } from '../../../helpers/local-http.js';
import { loadRemediatorConfig } from '../../../helpers/load-remediator-config.js';
import { tempDir } from '../../../helpers/temp-dir.js';

describe('reset the breaker from the command line', () => {
  it('edits the state file when no remediator runs on the data_dir', async () => {
    const t = await tempDir('reset');
    try {
      const open = {
        ...emptyState(),
        safety: { cooldowns: {}, breaker: { open: true, trippedAt: 5, actions: [1, 2, 3] } },
      };
      await writeFileAtomic(join(t.dir, 'state.json'), JSON.stringify(open));
      // 0.1.0's pid file, naming a live process that is no remediator: only the instance lock tells who runs.
      await writeFile(join(t.dir, 'remediator.pid'), `${process.ppid}\n`);
      const { cfg } = loadRemediatorConfig(`remediator: {data_dir: "${t.dir}", insecure_no_auth: true}\n`);
      assert.match(await resetBreakerFromCli(cfg, 'bob'), /state file \(it was open\)/);
      const after = await StateStore.load(t.dir);
      assert.equal(after.safety.breaker.open, false);
      assert.deepEqual(after.safety.breaker.actions, []);
      assert.equal(after.safety.breaker.resetBy, 'bob');
    } finally {
      await t.remove();
    }
  });

  it('asks the running remediator on its own listener with its own credentials', async () => {
    const t = await tempDir('reset-live');
    const cleanups: (() => Promise<void>)[] = [];
    const server = await localHttp((req, res) => {
      const ok = req.method === 'POST' && req.url === '/api/breaker/reset' && req.headers.authorization === 'Bearer s3';
      res.writeHead(ok ? 200 : 401).end(ok ? '{"status":"ok","was_open":true}' : 'no');
    });
    try {
      await writeFile(join(t.dir, 'token'), 's3\n');
      const lock = await acquireInstanceLock(t.dir); // "running": this live process holds the instance lock
      cleanups.push(() => lock.release());
      const port = new URL(server.url).port;
      const { cfg } = loadRemediatorConfig(
        `remediator: {data_dir: "${t.dir}", listen_address: ":${port}", bearer_token_file: "${join(t.dir, 'token')}"}\n`,
      );
      assert.match(await resetBreakerFromCli(cfg, 'carol'), /asked the running remediator .*"was_open":true/);
      assert.equal(server.requests[0]!.headers['x-operator'], 'carol');
    } finally {
      for (const c of cleanups) await c();
      await server.close();
      await t.remove();
    }
  });
});
