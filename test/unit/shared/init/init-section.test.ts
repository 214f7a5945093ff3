import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../shared/config/config-issues.js';
import { loadConfig } from '../../../../shared/config/load-config.js';
import { initSection, type InitConfig } from '../../../../shared/init/init-section.js';

function load(yaml: string, env: Record<string, string> = {}, flags: [string, string | true][] = []): InitConfig {
  const config = loadConfig({
    file: 'init.yaml',
    readFile: () => yaml,
    env,
    flags: new Map(flags),
    sections: [initSection],
  });
  return config.init as InitConfig;
}

test('defaults: 5m wait, 60s stall, 5 retries from 2s, no verification, 10s progress lines', () => {
  assert.deepEqual(load(''), {
    wait_timeout_ms: 300_000,
    stall_timeout_ms: 60_000,
    pull_retries: 5,
    retry_backoff_ms: 2_000,
    retry_backoff_max_ms: 30_000,
    verify: false,
    verify_timeout_ms: 300_000,
    progress_interval_ms: 10_000,
    insecure: false,
  });
});

test('file < environment < flag, durations stored in milliseconds', () => {
  const s = load(
    'init:\n  wait_timeout: 90s\n  pull_retries: 2\n  verify: true\n',
    { SENTINEL_INIT_WAIT_TIMEOUT: '2m', SENTINEL_INIT_STALL_TIMEOUT: '15s' },
    [['init.wait_timeout', '10m']],
  );
  assert.equal(s.wait_timeout_ms, 600_000);
  assert.equal(s.stall_timeout_ms, 15_000);
  assert.equal(s.pull_retries, 2);
  assert.equal(s.verify, true);
});

test('bad values are all reported at once', () => {
  assert.throws(
    () => load('init:\n  wait_timeout: soon\n  pull_retries: -1\n  stall_timout: 5s\n'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const paths = err.issues.map((i) => i.path).sort();
      assert.deepEqual(paths, ['init.pull_retries', 'init.stall_timout', 'init.wait_timeout']);
      assert.match(err.issues.find((i) => i.path === 'init.stall_timout')!.fix, /stall_timeout/);
      return true;
    },
  );
});
