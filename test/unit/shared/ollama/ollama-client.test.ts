import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { OllamaClient } from '../../../../shared/ollama/ollama-client.js';
import { OllamaError } from '../../../../shared/ollama/ollama-error.js';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { closedPort, json, startLocalServer, type LocalServer } from '../../../helpers/local-server.js';
import { TEST_CA_PEM, TEST_SERVER_CERT_PEM, TEST_SERVER_KEY_PEM } from '../../../helpers/tls-fixture.js';
import { startOllamaSim } from '../../../sim/ollama-sim.js';

const target = (url: string, extra: Partial<OllamaTargetConfig> = {}): OllamaTargetConfig => ({
  name: 'gpu0',
  url,
  headers: { authorization: 'Bearer t0ken' },
  ...extra,
});

async function withServer(
  handler: Parameters<typeof startLocalServer>[0],
  fn: (s: LocalServer) => Promise<void>,
): Promise<void> {
  const server = await startLocalServer(handler);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

const ndjson = (res: ServerResponse, lines: unknown[], end = true): void => {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (const l of lines) res.write(JSON.stringify(l) + '\n');
  if (end) res.end();
};

const isReason = (reason: string) => (err: unknown) => {
  assert.ok(err instanceof OllamaError, `expected OllamaError, got ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  return true;
};

test('liveness and inventory calls send the target headers and parse answers', async () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  await withServer(
    (req, res) => {
      if (req.method === 'HEAD' && req.url === '/') return void res.writeHead(200).end();
      if (req.url === '/api/version') return json(res, 200, { version: '0.12.3' });
      if (req.url === '/api/ps')
        return json(res, 200, {
          models: [{ name: 'a:latest', model: 'a:latest', size: 10, size_vram: 4, expires_at: '2026-11-25T11:00:00Z' }],
        });
      if (req.url === '/api/tags') return json(res, 200, { models: [{ name: 'a:latest', size: 3 }] });
      json(res, 404, { error: 'not found' });
    },
    async (s) => {
      const client = new OllamaClient(target(s.url), { now: () => now });
      assert.equal(await client.head(), 200);
      assert.equal(await client.version(), '0.12.3');
      const ps = await client.ps();
      assert.equal(ps[0]!.stopping, true);
      assert.equal(ps[0]!.size_vram, 4);
      assert.equal((await client.tags())[0]!.name, 'a:latest');
      assert.equal(s.requests.length, 4);
      for (const r of s.requests) assert.equal(r.headers.authorization, 'Bearer t0ken');
    },
  );
});

test('a path prefix in the target URL is kept', async () => {
  await withServer(
    (req, res) => (req.url === '/ollama/api/version' ? json(res, 200, { version: '1' }) : json(res, 404, {})),
    async (s) => assert.equal(await new OllamaClient(target(`${s.url}/ollama`)).version(), '1'),
  );
});

test('HTTP errors keep the status and the server message', async () => {
  await withServer(
    (_req, res) => json(res, 500, { error: 'model requires more system memory (12 GiB) than is available (4 GiB)' }),
    async (s) => {
      await assert.rejects(new OllamaClient(target(s.url)).version(), (err: OllamaError) => {
        assert.equal(err.reason, 'http_500');
        assert.equal(err.status, 500);
        assert.match(err.message, /requires more system memory/);
        return true;
      });
    },
  );
});

test('show and delete turn 404 into null/false, other answers into values', async () => {
  await withServer(
    (req, res) => {
      const model = (JSON.parse(req.body) as { model: string }).model;
      if (model === 'missing:latest') return json(res, 404, { error: `model '${model}' not found` });
      if (req.url === '/api/show')
        return json(res, 200, { capabilities: ['completion'], details: { family: 'llama' } });
      res.writeHead(200).end();
    },
    async (s) => {
      const client = new OllamaClient(target(s.url));
      assert.equal(await client.show('missing:latest'), null);
      assert.deepEqual((await client.show('llama3:latest'))?.capabilities, ['completion']);
      assert.equal(await client.delete('missing:latest'), false);
      assert.equal(await client.delete('llama3:latest'), true);
      assert.equal(s.requests[2]!.method, 'DELETE');
    },
  );
});

test('connection refused, reset, timeout, caller abort and bad JSON are classified', async () => {
  const port = await closedPort();
  await assert.rejects(new OllamaClient(target(`http://127.0.0.1:${port}`)).head(), isReason('refused'));

  await withServer(
    (req, res) => {
      if (req.url === '/api/version') return void res.socket?.destroy();
      if (req.url === '/api/tags')
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"models":');
      // /api/ps never answers
    },
    async (s) => {
      const client = new OllamaClient(target(s.url), { timeoutMs: 150 });
      await assert.rejects(client.version(), isReason('reset'));
      await assert.rejects(client.tags(), isReason('bad_json'));
      const started = Date.now();
      await assert.rejects(client.ps(), isReason('timeout'));
      assert.ok(Date.now() - started < 2000, 'the deadline fired');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(client.ps({ signal: controller.signal, timeoutMs: 5000 }), isReason('aborted'));
      await assert.rejects(client.ps({ signal: AbortSignal.abort() }), isReason('aborted'));
    },
  );
});

test('a deadline also covers a body that stops half-way', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"models":[');
    },
    async (s) => {
      await assert.rejects(new OllamaClient(target(s.url), { timeoutMs: 150 }).tags(), isReason('timeout'));
    },
  );
});

test('TLS: an unknown CA fails as tls; the extra CA from ca_file or options is trusted', async () => {
  const server = await startLocalServer((_req, res) => json(res, 200, { version: '9.9.9' }), {
    cert: TEST_SERVER_CERT_PEM,
    key: TEST_SERVER_KEY_PEM,
  });
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-ca-'));
  try {
    await assert.rejects(new OllamaClient(target(server.url)).version(), isReason('tls'));
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, TEST_CA_PEM);
    assert.equal(await new OllamaClient(target(server.url, { ca_file: caFile })).version(), '9.9.9');
    assert.equal(await new OllamaClient(target(server.url), { ca: TEST_CA_PEM }).version(), '9.9.9');
    await assert.rejects(
      new OllamaClient(target(server.url, { ca_file: join(dir, 'absent.pem') })).version(),
      isReason('config'),
    );
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('generate streams chunks and returns timings and the final stats', async () => {
  await withServer(
    (_req, res) =>
      ndjson(res, [
        { model: 'm', response: 'Hi', done: false },
        {
          model: 'm',
          response: '',
          done: true,
          done_reason: 'length',
          load_duration: 2_000_000,
          eval_count: 1,
          eval_duration: 20_000_000,
        },
      ]),
    async (s) => {
      const seen: unknown[] = [];
      const result = await new OllamaClient(target(s.url)).generate(
        { model: 'm:latest', prompt: 'ping', keep_alive: '10m', options: { num_ctx: 4096, num_predict: 1 } },
        { loadTimeoutMs: 1000, firstTokenTimeoutMs: 1000, onChunk: (c) => seen.push(c.response) },
      );
      assert.equal(result.response, 'Hi');
      assert.equal(result.chunks, 2);
      assert.equal(result.final.load_duration, 2_000_000);
      assert.ok(result.firstChunkMs >= result.headersMs && result.totalMs >= result.firstChunkMs);
      assert.deepEqual(seen, ['Hi', '']);
      assert.deepEqual(JSON.parse(s.requests[0]!.body), {
        model: 'm:latest',
        prompt: 'ping',
        keep_alive: '10m',
        options: { num_ctx: 4096, num_predict: 1 },
        stream: true,
      });
    },
  );
});

test('generate: no headers in time is load_timeout, headers then silence is first_token_timeout', async () => {
  await withServer(
    (req, res) => {
      if ((JSON.parse(req.body) as { model: string }).model === 'hung') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.flushHeaders();
      }
      // "slow" never answers
    },
    async (s) => {
      const client = new OllamaClient(target(s.url));
      await assert.rejects(
        client.generate({ model: 'slow', prompt: 'x' }, { loadTimeoutMs: 100, firstTokenTimeoutMs: 5000 }),
        isReason('load_timeout'),
      );
      await assert.rejects(
        client.generate({ model: 'hung', prompt: 'x' }, { loadTimeoutMs: 5000, firstTokenTimeoutMs: 100 }),
        isReason('first_token_timeout'),
      );
    },
  );
});

test('generate: 503, 404, a mid-stream error and a truncated stream', async () => {
  await withServer(
    (req, res) => {
      const model = (JSON.parse(req.body) as { model: string }).model;
      if (model === 'busy')
        return json(res, 503, { error: 'server busy, please try again.  maximum pending requests exceeded' });
      if (model === 'missing') return json(res, 404, { error: `model "missing" not found, try pulling it first` });
      if (model === 'oom')
        return ndjson(res, [{ error: 'llama runner process has terminated: CUDA error: out of memory' }]);
      ndjson(res, [{ response: 'a', done: false }]);
    },
    async (s) => {
      const client = new OllamaClient(target(s.url));
      const opts = { loadTimeoutMs: 2000, firstTokenTimeoutMs: 2000 };
      await assert.rejects(client.generate({ model: 'busy' }, opts), isReason('http_503'));
      await assert.rejects(client.generate({ model: 'missing' }, opts), isReason('http_404'));
      await assert.rejects(
        client.generate({ model: 'oom' }, opts),
        (err: OllamaError) => isReason('stream_error')(err) && /out of memory/.test(err.message),
      );
      await assert.rejects(client.generate({ model: 'cut' }, opts), isReason('truncated'));
    },
  );
});

test('load and unload send keep_alive and options verbatim', async () => {
  await withServer(
    (req, res) => {
      const body = JSON.parse(req.body) as { keep_alive?: unknown };
      json(res, 200, { model: 'm', response: '', done: true, done_reason: body.keep_alive === 0 ? 'unload' : 'load' });
    },
    async (s) => {
      const client = new OllamaClient(target(s.url));
      const loaded = await client.load('m:latest', { keep_alive: -1, options: { num_ctx: 8192 } });
      assert.equal(loaded.final.done_reason, 'load');
      assert.ok(loaded.loadMs >= 0);
      await client.unload('m:latest');
      assert.deepEqual(JSON.parse(s.requests[0]!.body), {
        model: 'm:latest',
        keep_alive: -1,
        options: { num_ctx: 8192 },
        stream: false,
      });
      assert.deepEqual(JSON.parse(s.requests[1]!.body), { model: 'm:latest', keep_alive: 0, stream: false });
    },
  );
});

test('pull requires the final success and reports progress', async () => {
  const lines = [
    { status: 'pulling manifest' },
    { status: 'pulling aaa', digest: 'aaa', total: 100 },
    { status: 'pulling aaa', digest: 'aaa', total: 100, completed: 100 },
    { status: 'verifying sha256 digest' },
    { status: 'writing manifest' },
    { status: 'success' },
  ];
  await withServer(
    (req, res) => {
      const model = (JSON.parse(req.body) as { model: string }).model;
      if (model === 'ok') return ndjson(res, lines);
      if (model === 'unknown') return ndjson(res, [lines[0], { error: 'pull model manifest: file does not exist' }]);
      if (model === 'cut') return ndjson(res, lines.slice(0, 3));
      if (model === 'bad') return json(res, 400, { error: 'invalid model name' });
    },
    async (s) => {
      const client = new OllamaClient(target(s.url));
      const progress: unknown[] = [];
      const final = await client.pull('ok', { onProgress: (p) => progress.push(p.completed ?? p.status) });
      assert.equal(final.status, 'success');
      assert.deepEqual(progress, [
        'pulling manifest',
        'pulling aaa',
        100,
        'verifying sha256 digest',
        'writing manifest',
        'success',
      ]);
      assert.deepEqual(JSON.parse(s.requests[0]!.body), { model: 'ok', stream: true });
      await assert.rejects(
        client.pull('unknown'),
        (err: OllamaError) => isReason('stream_error')(err) && /file does not exist/.test(err.message),
      );
      await assert.rejects(client.pull('cut'), isReason('truncated'));
      await assert.rejects(client.pull('bad'), isReason('http_400'));
    },
  );
});

test('pull aborts as stalled on silence and on repeated identical progress, not while bytes move', async () => {
  const timers: NodeJS.Timeout[] = [];
  await withServer(
    (req, res) => {
      const model = (JSON.parse(req.body) as { model: string }).model;
      ndjson(res, [{ status: 'pulling manifest' }], false);
      let completed = 0;
      let ticks = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return void clearInterval(timer);
        ticks++;
        // "stuck" repeats the same line like Ollama's progress ticker; "moving" advances then succeeds.
        if (model === 'moving') completed += 10;
        if (model === 'silent') return;
        res.write(JSON.stringify({ status: 'pulling aaa', digest: 'aaa', total: 1000, completed }) + '\n');
        if (model === 'moving' && ticks === 12) {
          res.end(JSON.stringify({ status: 'success' }) + '\n');
          clearInterval(timer);
        }
      }, 25);
      timers.push(timer);
    },
    async (s) => {
      const client = new OllamaClient(target(s.url));
      await assert.rejects(client.pull('silent', { stallTimeoutMs: 120 }), isReason('stalled'));
      await assert.rejects(client.pull('stuck', { stallTimeoutMs: 120 }), isReason('stalled'));
      assert.equal((await client.pull('moving', { stallTimeoutMs: 120 })).status, 'success');
      await assert.rejects(client.pull('moving', { stallTimeoutMs: 5000, timeoutMs: 100 }), isReason('timeout'));
    },
  );
  for (const t of timers) clearInterval(t);
});

test('create streams like pull and sends the body with the model name', async () => {
  await withServer(
    (_req, res) => ndjson(res, [{ status: 'using existing layer sha256:1' }, { status: 'success' }]),
    async (s) => {
      const final = await new OllamaClient(target(s.url)).create('mine:latest', {
        from: 'llama3:latest',
        parameters: { num_ctx: 8192 },
      });
      assert.equal(final.status, 'success');
      assert.deepEqual(JSON.parse(s.requests[0]!.body), {
        from: 'llama3:latest',
        parameters: { num_ctx: 8192 },
        model: 'mine:latest',
        stream: true,
      });
    },
  );
});

test('HEAD / answered by a proxy with 401 is not a live server', async () => {
  await withServer(
    (_req, res) => void res.writeHead(401).end(),
    (s) => assert.rejects(new OllamaClient(target(s.url)).head(), isReason('http_401')),
  );
});

test('against the Ollama simulator: pull succeeds, fails on an error line, aborts a stalled download', async () => {
  const sim = await startOllamaSim({ models: [], pullBytesPerSecond: 0 });
  try {
    const client = new OllamaClient(target(sim.url));
    const statuses: string[] = [];
    const final = await client.pull('qwen2.5:0.5b', { onProgress: (p) => statuses.push(String(p.status)) });
    assert.equal(final.status, 'success');
    assert.equal(statuses[0], 'pulling manifest');
    assert.notEqual(await client.show('qwen2.5:0.5b'), null);

    await sim.control.setPullFault({ mode: 'error', afterBytes: 1000, message: 'max retries exceeded: EOF' });
    await assert.rejects(
      client.pull('llama3:latest'),
      (err: OllamaError) => isReason('stream_error')(err) && /max retries exceeded: EOF/.test(err.message),
    );

    await sim.control.setPullFault({ mode: 'stall', afterBytes: 1000 });
    await assert.rejects(client.pull('llama3:latest', { stallTimeoutMs: 300 }), isReason('stalled'));
    await sim.control.setPullFault(null);
    // Another model: the sim may still hold the abandoned llama3 transfer for a moment (reported to its owner).
    assert.equal((await client.pull('llama3.1:8b', { stallTimeoutMs: 5000 })).status, 'success');
    assert.equal(await client.delete('llama3.1:8b'), true);
    assert.equal(await client.show('llama3.1:8b'), null);
  } finally {
    await sim.close();
  }
});

test('create with a missing base reads past the embedded pull\'s own "success" to the real end', async () => {
  const seen: string[] = [];
  // server/create.go parseFromModel -> PullModel streams the base pull (ending in "success") inside the create.
  const lines = [
    { status: 'pulling manifest' },
    { status: 'success' },
    { status: 'using existing layer sha256:1' },
    { status: 'writing manifest' },
    { status: 'success' },
  ];
  await withServer(
    (_req, res) => ndjson(res, lines),
    async (s) => {
      await new OllamaClient(target(s.url)).create(
        'mine:latest',
        { from: 'llama3:latest' },
        {
          onProgress: (p) => seen.push(String(p.status)),
        },
      );
      assert.deepEqual(
        seen,
        lines.map((l) => l.status),
      );
    },
  );
  // Cut after the pull's success: the create never finished.
  await withServer(
    (_req, res) => ndjson(res, lines.slice(0, 3)),
    (s) =>
      assert.rejects(
        new OllamaClient(target(s.url)).create('mine:latest', { from: 'llama3:latest' }),
        isReason('truncated'),
      ),
  );
});
