import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOllamaSim, type OllamaSim } from '../../../sim/ollama-sim.js';
import { initConfig, runInitCli } from '../../../helpers/run-init-cli.js';

// --verify and --check through the real binary against the simulator.
const T = { timeout: 30_000 };

async function withSim(fn: (sim: OllamaSim) => Promise<void>, models: string[] = []): Promise<void> {
  const sim = await startOllamaSim({ models });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

const loaded = async (sim: OllamaSim) => (await sim.control.state()).runners.map((r) => r.name).sort();
const pulls = async (sim: OllamaSim) => (await sim.control.requests()).filter((r) => r.path === '/api/pull').length;

test('--verify: keep_warm models stay loaded, the others are unloaded after their check', T, () =>
  withSim(async (sim) => {
    const models = [{ name: 'llama3', keep_warm: true, options: { num_ctx: 4096 } }, { name: 'qwen2.5:0.5b' }];
    const cli = runInitCli(initConfig(sim.url, models), ['--verify']);
    assert.equal(await cli.finished(), 0, cli.process.output());
    assert.deepEqual(await loaded(sim), ['llama3:latest']);
    const err = cli.process.stderr();
    assert.match(
      err,
      /llama3:latest {2}pulled in \S+; verified: 100% in VRAM, loaded in \S+, answered in \S+, left loaded \(keep_warm\)/,
    );
    assert.match(
      err,
      /qwen2\.5:0\.5b {3}pulled in \S+; verified: 100% in VRAM, loaded in \S+, answered in \S+, unloaded/,
    );
    // keep_warm without keep_alive means forever: sent as the number -1, with the configured options.
    const load = (await sim.control.requests()).find((r) => r.path === '/api/generate')!.body as Record<
      string,
      unknown
    >;
    assert.deepEqual(load, { model: 'llama3:latest', keep_alive: -1, options: { num_ctx: 4096 }, stream: false });
  }),
);

test('init.verify in the config turns verification on too', T, () =>
  withSim(
    async (sim) => {
      const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b'], { verify: true }));
      assert.equal(await cli.finished(), 0, cli.process.output());
      assert.match(cli.process.stderr(), /qwen2\.5:0\.5b verified: 100% in VRAM/);
    },
    ['qwen2.5:0.5b'],
  ),
);

test('partial offload at verification: exit 5', T, () =>
  withSim(
    async (sim) => {
      await sim.control.setPartialOffload(0.5);
      const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b']), ['--verify']);
      assert.equal(await cli.finished(), 5, cli.process.output());
      assert.match(
        cli.process.stderr(),
        /verification FAILED \(offload\): only 50% in VRAM \(partial offload, the rest on the CPU\), needs at least 90%/,
      );
      assert.match(cli.process.stderr(), /init: exit 5 \(verification failed\)/);
      assert.deepEqual(await loaded(sim), []);
    },
    ['qwen2.5:0.5b'],
  ),
);

test('CPU fallback at verification: exit 5', T, () =>
  withSim(
    async (sim) => {
      await sim.control.setCpuFallback(true);
      const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b']), ['--verify']);
      assert.equal(await cli.finished(), 5, cli.process.output());
      assert.match(cli.process.stderr(), /runs 100% on the CPU/);
    },
    ['qwen2.5:0.5b'],
  ),
);

test('a pull failure outranks a verification failure: exit 4, and only the pulled model is verified', T, () =>
  withSim(
    async (sim) => {
      await sim.control.setPartialOffload(0.5);
      const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b', 'no-such-model:1b']), ['--verify']);
      assert.equal(await cli.finished(), 4, cli.process.output());
      assert.match(cli.process.stderr(), /qwen2\.5:0\.5b verification FAILED/);
      assert.doesNotMatch(cli.process.stderr(), /verifying no-such-model/);
    },
    ['qwen2.5:0.5b'],
  ),
);

test('--check: exit 6 at the deadline when a model is missing, and nothing is pulled', T, () =>
  withSim(
    async (sim) => {
      const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b', 'llama3'], { wait_timeout: '1s' }), ['--check']);
      assert.equal(await cli.finished(), 6, cli.process.output());
      const err = cli.process.stderr();
      assert.match(err, /--check: waiting for qwen2\.5:0\.5b \(not present\); next check in /);
      assert.match(err, /qwen2\.5:0\.5b {3}NOT READY at the deadline: not present/);
      assert.match(err, /llama3:latest {2}ready \(checked in /);
      assert.equal(await pulls(sim), 0);
    },
    ['llama3:latest'],
  ),
);

test('--check: exit 0 at once when every model is present', T, () =>
  withSim(
    async (sim) => {
      const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b']), ['--check']);
      assert.equal(await cli.finished(), 0, cli.process.output());
      assert.doesNotMatch(cli.process.stderr(), /waiting for/);
      assert.equal(await pulls(sim), 0);
    },
    ['qwen2.5:0.5b'],
  ),
);

test('--check waits for a model that appears later (pulled by the init service elsewhere)', T, () =>
  withSim(async (sim) => {
    const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b'], { wait_timeout: '20s' }), ['--check']);
    try {
      await cli.process.waitForOutput(/waiting for qwen2\.5:0\.5b \(not present\)/, 10_000);
      await sim.control.addModel('qwen2.5:0.5b');
      assert.equal(await cli.finished(), 0, cli.process.output());
    } finally {
      await cli.stop();
    }
    assert.equal(await pulls(sim), 0);
  }),
);

test('--check --verify: also requires the model to load onto the GPU', T, () =>
  withSim(
    async (sim) => {
      await sim.control.setCpuFallback(true);
      const failing = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b'], { wait_timeout: '1s' }), [
        '--check',
        '--verify',
      ]);
      assert.equal(await failing.finished(), 6, failing.process.output());
      assert.match(
        failing.process.stderr(),
        /NOT READY at the deadline: verification failed \(offload\): runs 100% on the CPU/,
      );

      await sim.control.setCpuFallback(false);
      const passing = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b']), ['--check', '--verify']);
      assert.equal(await passing.finished(), 0, passing.process.output());
      assert.match(passing.process.stderr(), /qwen2\.5:0\.5b is ready \(verified on the GPU\)/);
      assert.equal(await pulls(sim), 0);
    },
    ['qwen2.5:0.5b'],
  ),
);

test('--check with --update is bad usage', T, () =>
  withSim(async (sim) => {
    const cli = runInitCli(initConfig(sim.url, ['qwen2.5:0.5b']), ['--check', '--update']);
    assert.equal(await cli.finished(), 2);
    assert.match(cli.process.stderr(), /--check never pulls/);
  }),
);
