import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../../helpers/wait-for.js';
import { findFreePort } from '../../../helpers/find-free-port.js';
import { startOllamaSim, type OllamaSim } from '../../../sim/ollama-sim.js';
import { closedPort } from '../../../helpers/local-server.js';
import { initConfig, runInitCli } from '../../../helpers/run-init-cli.js';

// The real binary as a child process against the simulator: exit codes, stderr lines and what reached Ollama.
const T = { timeout: 30_000 };

async function withSim(fn: (sim: OllamaSim) => Promise<void>, models: string[] = []): Promise<void> {
  const sim = await startOllamaSim({ models });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

const pulls = async (sim: OllamaSim) =>
  (await sim.control.requests()).filter((r) => r.path === '/api/pull').map((r) => (r.body as { model: string }).model);

test('pulls a missing model and exits 0 with a summary on stderr and JSON logs on stdout', T, () =>
  withSim(async (sim) => {
    const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b']));
    assert.equal(await cli.finished(), 0, cli.process.output());
    const err = cli.process.stderr();
    assert.match(err, /init main: Ollama 0\.12\.6 is up at /);
    assert.match(err, /init main: pull qwen2\.5:0\.5b: pulling manifest/);
    assert.match(err, /\n {4}qwen2\.5:0\.5b {2}pulled in \S+\n/);
    assert.match(err, /init: exit 0 \(every model ready\)\n$/);
    assert.deepEqual(await pulls(sim), ['qwen2.5:0.5b']);
    // log.level warn: nothing but errors would reach stdout, and there were none.
    assert.equal(cli.process.stdout(), '');
  }),
);

test('slow start: waits with one line per attempt, then succeeds', T, async () => {
  const port = await findFreePort();
  const attempts = (text: string) =>
    text.match(/not answering \(attempt \d+: [^\n]*refused[^\n]*\); next try in \S+, giving up in \S+\n/g) ?? [];
  const cli = runInitCli(initConfig(`http://127.0.0.1:${port}`, ['qwen2.5:0.5b'], { wait_timeout: '20s' }));
  // Ollama comes up only once init has been refused twice (a fixed start delay raced init's own start on a busy machine).
  await waitFor(() => attempts(cli.process.stderr()).length >= 2, {
    timeoutMs: 15_000,
    intervalMs: 50,
    what: `two refused attempts\n${cli.process.output()}`,
  });
  const sim = await startOllamaSim({ port });
  try {
    assert.equal(await cli.finished(), 0, cli.process.output());
    assert.ok(attempts(cli.process.stderr()).length >= 2, cli.process.stderr());
    assert.match(cli.process.stderr(), /qwen2\.5:0\.5b pulled in/);
  } finally {
    await sim.close();
  }
});

test('never starts: exit 3 at the deadline', T, async () => {
  const port = await closedPort();
  const cli = runInitCli(initConfig(`http://127.0.0.1:${port}`, ['qwen2.5:0.5b'], { wait_timeout: '1s' }));
  assert.equal(await cli.finished(), 3, cli.process.output());
  const err = cli.process.stderr();
  assert.match(err, /; giving up\n/);
  assert.match(err, /target main \(http:\/\/127\.0\.0\.1:\d+\): UNREACHABLE: no answer within 1\.0s/);
  assert.match(err, /init: exit 3 \(Ollama unreachable before the deadline\)/);
});

test('flaky connections are retried', T, () =>
  withSim(async (sim) => {
    await sim.control.flakyConnections(3);
    const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b']));
    assert.equal(await cli.finished(), 0, cli.process.output());
    assert.match(cli.process.stderr(), /failed \(reset\)/);
    assert.ok((await sim.control.state()).localModels.includes('qwen2.5:0.5b'));
  }),
);

test('error line mid-stream: retried and pulled (exit 0); persistent: exit 4 after the retries', T, () =>
  withSim(async (sim) => {
    await sim.control.setPullFault({ mode: 'error', afterBytes: 100_000_000, count: 1 });
    const once = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b']));
    assert.equal(await once.finished(), 0, once.process.output());
    assert.match(
      once.process.stderr(),
      /pull qwen2\.5:0\.5b attempt 1\/3 failed: [^\n]*max retries exceeded: EOF; retrying in /,
    );
    assert.match(once.process.stderr(), /qwen2\.5:0\.5b {2}pulled in \S+ \(2 attempts\)/);

    await sim.control.setPullFault({ mode: 'error', afterBytes: 10_000_000, count: 100 });
    await sim.control.clearRequests();
    const persistent = runInitCli(initConfig(sim.url, ['llama3:latest']));
    assert.equal(await persistent.finished(), 4, persistent.process.output());
    assert.match(persistent.process.stderr(), /attempt 3\/3 failed: [^\n]*\(no retries left\)/);
    assert.match(
      persistent.process.stderr(),
      /llama3:latest {2}pull FAILED after 3 attempts in \S+: [^\n]*max retries exceeded/,
    );
    assert.deepEqual(await pulls(sim), ['llama3:latest', 'llama3:latest', 'llama3:latest']);
  }),
);

test('stalled pull: aborted after stall_timeout, retried, resumed', T, () =>
  withSim(async (sim) => {
    await sim.control.setPullFault({ mode: 'stall', afterBytes: 150_000_000 });
    const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b'], { stall_timeout: '300ms' }));
    try {
      await cli.process.waitForOutput(/no progress for 300 ms; retrying/, 20_000);
      await sim.control.setPullFault(null);
      assert.equal(await cli.finished(), 0, cli.process.output());
    } finally {
      await cli.stop();
    }
    assert.deepEqual(await pulls(sim), ['qwen2.5:0.5b', 'qwen2.5:0.5b']);
    assert.match(cli.process.stderr(), /pull qwen2\.5:0\.5b \(attempt 2\): pulling \w+, 37% \(150 MB of 398 MB\)/);
  }),
);

test('unknown model: exit 4 without a retry, and the other models are still pulled', T, () =>
  withSim(async (sim) => {
    const cli = runInitCli(initConfig(sim.url, ['no-such-model:7b', 'qwen2.5:0.5b']));
    assert.equal(await cli.finished(), 4, cli.process.output());
    assert.match(cli.process.stderr(), /file does not exist \(permanent error, not retried\)/);
    assert.deepEqual(await pulls(sim), ['no-such-model:7b', 'qwen2.5:0.5b']);
  }),
);

test('several models: present ones are skipped, missing ones pulled, in config order', T, () =>
  withSim(
    async (sim) => {
      const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b', { name: 'llama3' }, 'nomic-embed-text']));
      assert.equal(await cli.finished(), 0, cli.process.output());
      assert.deepEqual(await pulls(sim), ['qwen2.5:0.5b', 'nomic-embed-text:latest']);
      assert.match(cli.process.stderr(), /llama3:latest is present \(not pulled; --update pulls it again\)/);
      const local = (await sim.control.state()).localModels;
      for (const m of ['qwen2.5:0.5b', 'llama3:latest', 'nomic-embed-text:latest']) assert.ok(local.includes(m), m);
    },
    ['llama3:latest'],
  ),
);

test('--update pulls a present model again', T, () =>
  withSim(
    async (sim) => {
      const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b']), ['--update']);
      assert.equal(await cli.finished(), 0, cli.process.output());
      assert.deepEqual(await pulls(sim), ['qwen2.5:0.5b']);
    },
    ['qwen2.5:0.5b'],
  ),
);

test('create: pulls the from model, then builds the model with /api/create', T, () =>
  withSim(async (sim) => {
    const cli = runInitCli(
      initConfig(sim.url, [{ name: 'terse', create: { from: 'qwen2.5:0.5b', system: 'Be terse.' } }]),
    );
    assert.equal(await cli.finished(), 0, cli.process.output());
    const creates = (await sim.control.requests()).filter((r) => r.path === '/api/create').map((r) => r.body);
    assert.deepEqual(creates, [{ from: 'qwen2.5:0.5b', system: 'Be terse.', model: 'terse:latest', stream: true }]);
    assert.match(cli.process.stderr(), /terse:latest {2}created in \S+, base qwen2\.5:0\.5b pulled in /);
  }),
);

test('--target picks targets; models go only where they belong; an unknown target is bad usage (2)', T, async () => {
  const a = await startOllamaSim();
  const b = await startOllamaSim();
  try {
    const config = {
      log: { level: 'warn' },
      ollama: [
        { name: 'a', url: a.url },
        { name: 'b', url: b.url },
      ],
      models: [{ name: 'qwen2.5:0.5b' }, { name: 'llama3', targets: ['b'] }],
      init: { wait_timeout: '5s', retry_backoff: '50ms' },
    };
    const onlyB = runInitCli(config, ['--target', 'b']);
    assert.equal(await onlyB.finished(), 0, onlyB.process.output());
    assert.deepEqual(await pulls(a), []);
    assert.deepEqual(await pulls(b), ['qwen2.5:0.5b', 'llama3:latest']);

    const all = runInitCli(config);
    assert.equal(await all.finished(), 0, all.process.output());
    assert.deepEqual(await pulls(a), ['qwen2.5:0.5b'], 'llama3 belongs on b only');

    const bad = runInitCli(config, ['--target', 'c']);
    assert.equal(await bad.finished(), 2);
    assert.match(bad.process.stderr(), /--target c: not declared under ollama: \(declared: a, b\)/);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('bad config is exit 2 with the problem listed', T, async () => {
  const cli = runInitCli(initConfig('http://127.0.0.1:1', ['qwen2.5:0.5b'], { pull_retries: 'many' }));
  assert.equal(await cli.finished(), 2);
  assert.match(cli.process.stderr(), /init\.pull_retries: expected a whole number/);
});

test('SIGTERM while waiting: exits 1 at once, saying it was interrupted', T, async () => {
  const port = await closedPort();
  const cli = runInitCli(
    initConfig(`http://127.0.0.1:${port}`, ['qwen2.5:0.5b'], {
      wait_timeout: '5m',
      retry_backoff: '10s',
      retry_backoff_max: '10s',
    }),
  );
  try {
    await cli.process.waitForOutput(/not answering \(attempt 1/, 10_000);
    process.kill(cli.process.pid!, 'SIGTERM');
    assert.equal(await cli.finished(), 1, cli.process.output());
    assert.match(cli.process.stderr(), /init: interrupted/);
  } finally {
    await cli.stop();
  }
});
