import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../../../shared/config/types.js';
import { OllamaClient, type PullProgress } from '../../../../shared/ollama/ollama-client.js';
import {
  ensureModel,
  type EnsureModelOptions,
  ProvisionError,
  isPermanentFetchError,
} from '../../../../shared/provision/ensure-model.js';
import { startOllamaSim, type OllamaSim } from '../../../sim/ollama-sim.js';
import { OllamaError } from '../../../../shared/ollama/ollama-error.js';

const model = (name: string, extra: Partial<ModelConfig> = {}): ModelConfig => ({
  name,
  keep_alive: '5m',
  keep_warm: false,
  min_vram_ratio: 0.9,
  options: {},
  targets: [],
  ...extra,
});

const options = (extra: Partial<EnsureModelOptions> = {}): EnsureModelOptions => ({
  stallTimeoutMs: 5_000,
  retries: 3,
  backoff: { initialMs: 20, maxMs: 100 },
  ...extra,
});

async function withSim(
  fn: (sim: OllamaSim, client: OllamaClient) => Promise<void>,
  models: string[] = [],
): Promise<void> {
  const sim = await startOllamaSim({ models });
  try {
    await fn(sim, new OllamaClient({ name: 'sim', url: sim.url, headers: {} }));
  } finally {
    await sim.close();
  }
}

const paths = async (sim: OllamaSim) =>
  (await sim.control.requests()).map((r) =>
    `${r.method} ${r.path} ${(r.body as { model?: string } | undefined)?.model ?? ''}`.trim(),
  );

test('present: nothing is pulled', () =>
  withSim(
    async (sim, client) => {
      const result = await ensureModel(client, model('qwen2.5:0.5b'), options());
      assert.equal(result.action, 'present');
      assert.equal(result.attempts, 0);
      assert.deepEqual(await paths(sim), ['POST /api/show qwen2.5:0.5b']);
    },
    ['qwen2.5:0.5b'],
  ));

test('missing: pulled strictly, with progress reported, and present afterwards', () =>
  withSim(async (sim, client) => {
    const progress: PullProgress[] = [];
    const result = await ensureModel(
      client,
      model('qwen2.5:0.5b'),
      options({ events: { progress: (e) => progress.push(e.progress) } }),
    );
    assert.equal(result.action, 'pulled');
    assert.equal(result.attempts, 1);
    assert.deepEqual(await paths(sim), ['POST /api/show qwen2.5:0.5b', 'POST /api/pull qwen2.5:0.5b']);
    assert.equal(progress[0]!.status, 'pulling manifest');
    assert.equal(progress[progress.length - 1]!.status, 'success');
    assert.ok(progress.some((p) => typeof p.total === 'number' && p.completed === p.total));
    assert.ok((await sim.control.state()).localModels.includes('qwen2.5:0.5b'));
  }));

test('update: pulls again although present', () =>
  withSim(
    async (sim, client) => {
      const result = await ensureModel(client, model('qwen2.5:0.5b'), options({ update: true }));
      assert.equal(result.action, 'pulled');
      assert.deepEqual(await paths(sim), ['POST /api/pull qwen2.5:0.5b']);
    },
    ['qwen2.5:0.5b'],
  ));

test('an error line mid-stream is retried, and the pull succeeds', () =>
  withSim(async (sim, client) => {
    await sim.control.setPullFault({ mode: 'error', afterBytes: 100_000_000, count: 1 });
    const failures: Array<{ attempt: number; message: string; retryInMs?: number }> = [];
    const result = await ensureModel(
      client,
      model('qwen2.5:0.5b'),
      options({
        events: {
          attemptFailed: (e) =>
            failures.push({
              attempt: e.attempt,
              message: e.error.message,
              ...(e.retryInMs !== undefined ? { retryInMs: e.retryInMs } : {}),
            }),
        },
      }),
    );
    assert.equal(result.action, 'pulled');
    assert.equal(result.attempts, 2);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!.message, /max retries exceeded: EOF/);
    assert.ok(failures[0]!.retryInMs !== undefined);
  }));

test('a persistent error line: gives up after retries + 1 attempts', () =>
  withSim(async (sim, client) => {
    await sim.control.setPullFault({ mode: 'error', afterBytes: 50_000_000, count: 100 });
    await assert.rejects(ensureModel(client, model('qwen2.5:0.5b'), options({ retries: 2 })), (err: unknown) => {
      assert.ok(err instanceof ProvisionError);
      assert.equal(err.stage, 'pull');
      assert.equal(err.details.permanent, false);
      assert.equal(err.details.attempts, 3);
      assert.equal(err.details.reason, 'stream_error');
      return true;
    });
    assert.equal((await paths(sim)).filter((p) => p.startsWith('POST /api/pull')).length, 3);
    assert.ok(!(await sim.control.state()).localModels.includes('qwen2.5:0.5b'));
  }));

test('unknown model: permanent, pulled exactly once', () =>
  withSim(async (sim, client) => {
    const attempts: number[] = [];
    await assert.rejects(
      ensureModel(
        client,
        model('no-such-model:7b'),
        options({ events: { attemptStarted: (e) => attempts.push(e.attempt) } }),
      ),
      (err: unknown) =>
        err instanceof ProvisionError &&
        err.details.permanent &&
        err.details.attempts === 1 &&
        /file does not exist/.test(err.message),
    );
    assert.deepEqual(attempts, [1]);
    assert.deepEqual(await paths(sim), ['POST /api/show no-such-model:7b', 'POST /api/pull no-such-model:7b']);
  }));

test('a stalled pull is aborted and the next attempt resumes where it stopped', () =>
  withSim(async (sim, client) => {
    await sim.control.setPullFault({ mode: 'stall', afterBytes: 200_000_000 });
    const byAttempt = new Map<number, PullProgress[]>();
    let attempt = 0;
    const reasons: string[] = [];
    const result = await ensureModel(
      client,
      model('qwen2.5:0.5b'),
      options({
        stallTimeoutMs: 250,
        events: {
          attemptStarted: (e) => {
            attempt = e.attempt;
            byAttempt.set(attempt, []);
          },
          progress: (e) => byAttempt.get(attempt)!.push(e.progress),
          attemptFailed: (e) => {
            reasons.push(e.error.message);
            void sim.control.setPullFault(null);
          },
        },
      }),
    );
    assert.equal(result.attempts, 2);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0]!, /no progress for 250 ms/);
    const firstLayerOf = (n: number) => byAttempt.get(n)!.find((p) => typeof p.total === 'number')!;
    assert.equal(firstLayerOf(1).completed, undefined, 'the first attempt starts from nothing');
    assert.equal(firstLayerOf(2).completed, 200_000_000, 'the second attempt resumes at the bytes already on disk');
  }));

test('HTTP 503 before the stream is retried', () =>
  withSim(async (sim, client) => {
    await sim.control.forceAnswer({ endpoint: '/api/pull', status: 503, count: 2 });
    const result = await ensureModel(client, model('qwen2.5:0.5b'), options());
    assert.equal(result.attempts, 3);
  }));

test('create: pulls the missing base, then creates from the config body', () =>
  withSim(async (sim, client) => {
    const bot = model('bot:latest', { create: { from: 'qwen2.5:0.5b', system: 'Answer tersely.' } });
    const stages: string[] = [];
    const result = await ensureModel(
      client,
      bot,
      options({ events: { attemptStarted: (e) => stages.push(`${e.stage} ${e.model}`) } }),
    );
    assert.equal(result.action, 'created');
    assert.equal(result.base?.model, 'qwen2.5:0.5b');
    assert.equal(result.base?.action, 'pulled');
    assert.deepEqual(stages, ['pull qwen2.5:0.5b', 'create bot:latest']);
    const requests = await sim.control.requests();
    assert.deepEqual(await paths(sim), [
      'POST /api/show bot:latest',
      'POST /api/show qwen2.5:0.5b',
      'POST /api/pull qwen2.5:0.5b',
      'POST /api/create bot:latest',
    ]);
    assert.deepEqual(requests[3]!.body, {
      from: 'qwen2.5:0.5b',
      system: 'Answer tersely.',
      model: 'bot:latest',
      stream: true,
    });
    assert.ok((await sim.control.state()).localModels.includes('bot:latest'));
  }));

test('create: a present base is not pulled; a created model that exists is left alone', () =>
  withSim(
    async (sim, client) => {
      const bot = model('bot:latest', { create: { from: 'qwen2.5:0.5b' } });
      const first = await ensureModel(client, bot, options());
      assert.equal(first.action, 'created');
      assert.deepEqual(first.base && { model: first.base.model, action: first.base.action }, {
        model: 'qwen2.5:0.5b',
        action: 'present',
      });
      const second = await ensureModel(client, bot, options());
      assert.equal(second.action, 'present');
      assert.ok(!(await paths(sim)).some((p) => p.startsWith('POST /api/pull')));
    },
    ['qwen2.5:0.5b'],
  ));

test('create from a file path: no base pull is tried, and the error line of the create is permanent', () =>
  withSim(async (sim, client) => {
    const bot = model('bot:latest', { create: { from: '/models/custom.gguf' } });
    await assert.rejects(
      ensureModel(client, bot, options()),
      (err: unknown) => err instanceof ProvisionError && err.stage === 'create' && err.details.permanent,
    );
    assert.equal((await paths(sim)).filter((p) => p.startsWith('POST /api/create')).length, 1);
  }));

test('shutdown mid-pull rejects with the abort, not a ProvisionError', () =>
  withSim(async (sim, client) => {
    await sim.control.setPullFault({ mode: 'stall', afterBytes: 10_000_000 });
    const controller = new AbortController();
    const run = ensureModel(
      client,
      model('qwen2.5:0.5b'),
      options({
        signal: controller.signal,
        events: {
          progress: (e) => (e.progress.completed ?? 0) >= 10_000_000 && controller.abort(new Error('SIGTERM')),
        },
      }),
    );
    await assert.rejects(run, (err: unknown) => !(err instanceof ProvisionError));
  }));

const stream = (message: string) => new OllamaError('stream_error', message, { status: 200 });

test('an unknown model (HTTP 200 + error line) is permanent for pull', () => {
  assert.equal(isPermanentFetchError(stream('pull model manifest: file does not exist'), 'pull'), true);
  assert.equal(
    isPermanentFetchError(stream('pull model manifest: 401: {"errors":[{"code":"UNAUTHORIZED"}]}'), 'pull'),
    true,
  );
  assert.equal(isPermanentFetchError(stream('manifest unknown'), 'pull'), true);
});

test('network trouble in the stream is retried for pull', () => {
  assert.equal(isPermanentFetchError(stream('max retries exceeded: EOF'), 'pull'), false);
  assert.equal(isPermanentFetchError(stream('digest mismatch, file must be downloaded again'), 'pull'), false);
});

test('create errors are permanent unless they look like a passing hiccup', () => {
  assert.equal(isPermanentFetchError(stream("model 'llama9' not found"), 'create'), true);
  assert.equal(isPermanentFetchError(stream("neither 'from' or 'files' was specified"), 'create'), true);
  assert.equal(isPermanentFetchError(stream('max retries exceeded: EOF'), 'create'), false);
});

test('HTTP 4xx is permanent except 408 and 429; 5xx is retried', () => {
  assert.equal(isPermanentFetchError(new OllamaError('http_400', 'invalid model name', { status: 400 }), 'pull'), true);
  assert.equal(isPermanentFetchError(new OllamaError('http_404', 'not found', { status: 404 }), 'show'), true);
  assert.equal(isPermanentFetchError(new OllamaError('http_408', 'timeout', { status: 408 }), 'pull'), false);
  assert.equal(isPermanentFetchError(new OllamaError('http_429', 'slow down', { status: 429 }), 'pull'), false);
  assert.equal(isPermanentFetchError(new OllamaError('http_500', 'boom', { status: 500 }), 'pull'), false);
  assert.equal(isPermanentFetchError(new OllamaError('http_503', 'server busy', { status: 503 }), 'create'), false);
});

test('transport failures are retried; configuration and TLS problems are not', () => {
  for (const reason of [
    'refused',
    'reset',
    'stalled',
    'truncated',
    'timeout',
    'bad_json',
    'network',
    'dns',
    'unreachable',
  ]) {
    assert.equal(isPermanentFetchError(new OllamaError(reason, reason), 'pull'), false, reason);
  }
  assert.equal(isPermanentFetchError(new OllamaError('config', 'cannot read ca_file'), 'pull'), true);
  assert.equal(isPermanentFetchError(new OllamaError('tls', 'self-signed certificate'), 'pull'), true);
});

test('errors that are not OllamaError are retried', () => {
  assert.equal(isPermanentFetchError(new Error('file does not exist'), 'pull'), false);
  assert.equal(isPermanentFetchError('weird', 'pull'), false);
});
