/**
 * Rows 1, 2, 4 and 8 of issue 9: how the scheduler treats a busy model (slots, expiry, unload) and what /api/ps
 * does during a cold load. Each expectation cites where it was read in Ollama's source.
 */
import type { ConformanceContext, RowCheck } from './conformance-context.js';
import { fail, pass, skip, sleep, versionAtLeast, waitFor } from './conformance-context.js';
import type { StreamHandle } from './conformance-client.js';
import { findPs } from './conformance-client.js';

/** A generation meant to outlast the row: a counting prompt and a num_predict the server caps at num_ctx. */
export function longGeneration(ctx: ConformanceContext, extra: Record<string, unknown> = {}): StreamHandle {
  return ctx.client.stream('/api/generate', {
    model: ctx.model,
    prompt: 'Count from 1 to 100000, one number after the other, separated by spaces. Do not stop.',
    options: { num_predict: 100_000, temperature: 0 },
    ...extra,
  });
}

/** Waits for the first token of each stream; a stream that ends or fails first makes the row inconclusive. */
async function allStreaming(streams: StreamHandle[], ctx: ConformanceContext): Promise<string | undefined> {
  const ok = await waitFor(
    async () => (streams.every((s) => s.firstTokenAt() !== undefined || s.ended()) ? true : undefined),
    120_000,
    50,
    ctx.signal,
  );
  if (!ok) return 'the long generations produced no token within 120 s';
  const bad = streams.find((s) => s.ended());
  if (bad) return `a long generation ended early (${bad.error() ?? `HTTP ${bad.status()}, model stopped by itself`})`;
  return undefined;
}

async function loadModel(ctx: ConformanceContext, keepAlive: string): Promise<string | undefined> {
  const a = await ctx.client.load(ctx.model, { keep_alive: keepAlive });
  if (a.status !== 200) return `could not load ${ctx.model}: ${a.error ?? `HTTP ${a.status} ${a.text.slice(0, 200)}`}`;
  ctx.loaded.add(ctx.model);
  return undefined;
}

const stopAll = async (streams: StreamHandle[]): Promise<void> => {
  for (const s of streams) s.abort();
  await Promise.all(streams.map((s) => s.finished));
};

export const row1SlotsWait: RowCheck = {
  row: 1,
  title: 'a request for a loaded model waits for a free slot, never 503',
  source:
    'server/sched.go Scheduler.getRunner (a loaded model goes to useLoadedRunner, never through pendingReqCh, whose ' +
    'full queue is the only ErrMaxQueue/503); llm/llama_server.go llamaServerRunner.Completion (s.sem.Acquire: ' +
    'OLLAMA_NUM_PARALLEL slots, waits without limit); v0.12.6: the same getRunner, llm/server.go llmServer.Completion',
  async run(ctx) {
    const n = ctx.options.numParallel;
    if (n === undefined)
      return skip('needs OLLAMA_NUM_PARALLEL known: pass --num-parallel N (the server default is 1)');
    if (n > 8) return skip(`saturating ${n} slots is not attempted (at most 8)`);
    const notLoaded = await loadModel(ctx, '5m');
    if (notLoaded) return skip(notLoaded);
    const longs = Array.from({ length: n }, () => longGeneration(ctx));
    try {
      const why = await allStreaming(longs, ctx);
      if (why) return skip(why);
      const extra = ctx.client.stream('/api/generate', {
        model: ctx.model,
        prompt: 'Say hi.',
        options: { num_predict: 1 },
      });
      const windowMs = ctx.options.observeMs ?? 3000;
      const sent = Date.now();
      await sleep(windowMs, ctx.signal);
      if (extra.status() === 503)
        return fail('no 503 for a loaded model: it waits for a slot', `HTTP 503 ${extra.error() ?? ''}`.trim());
      if (longs.some((s) => s.ended())) return skip('a long generation ended during the observation window');
      const answeredAt = extra.firstTokenAt() ?? (extra.ended() ? Date.now() : undefined);
      if (answeredAt !== undefined)
        return fail(
          `waits while all ${n} slot(s) are busy`,
          `answered (HTTP ${extra.status()}) ${answeredAt - sent} ms after it was sent, while ${n} long generation(s) ran`,
        );
      const freed = Date.now();
      await stopAll(longs);
      await Promise.race([extra.finished, sleep(30_000, ctx.signal)]);
      const done = extra.lines().some((l) => l.done === true);
      if (extra.status() !== 200 || !done)
        return fail(
          'answered once a slot is free',
          `HTTP ${extra.status()}, ${extra.error() ?? (extra.ended() ? 'no final line' : 'no answer 30 s after the slots were freed')}`,
        );
      return pass(
        `waited ${windowMs} ms behind ${n} busy slot(s) without an answer, answered ${Date.now() - freed} ms after they were freed`,
      );
    } finally {
      await stopAll(longs);
    }
  },
};

export const row2ExpiryWhileBusy: RowCheck = {
  row: 2,
  title: 'expires_at is not refreshed while a request runs; reset when it finishes',
  source:
    'server/sched.go useLoadedRunner (stops expireTimer, leaves expiresAt) and processCompleted (refCount 0: ' +
    'expiresAt = now + sessionDuration); same code in v0.12.6',
  async run(ctx) {
    const keepAliveS = ctx.options.keepAliveS ?? 3;
    const keepAlive = `${keepAliveS}s`;
    // The load re-arms expires_at only when no other request holds the runner (processCompleted): requests a client
    // just dropped may take a moment to be released, so load again until expires_at is about now + keep_alive.
    const armed = await waitFor(
      async () => {
        const notLoaded = await loadModel(ctx, keepAlive);
        if (notLoaded) return notLoaded;
        const listed = await ctx.client.ps();
        const e = listed && findPs(listed, ctx.model);
        if (!e) return `${ctx.model} not listed in /api/ps after its load`;
        const exp = Date.parse(e.expires_at);
        return exp <= Date.now() + keepAliveS * 1000 + 2000 ? exp : undefined;
      },
      10_000,
      500,
      ctx.signal,
    );
    if (armed === undefined) return skip(`${ctx.model} stays busy with other requests: its expires_at is not re-armed`);
    if (typeof armed === 'string')
      return armed.startsWith('could not') ? skip(armed) : fail('listed after its load', armed);
    const exp0 = armed;
    const gen = longGeneration(ctx, { keep_alive: keepAlive });
    try {
      const why = await allStreaming([gen], ctx);
      if (why) return skip(why);
      // Well past expires_at by our clock (the server's may differ a little: same host is best).
      await sleep(Math.max(0, exp0 + Math.min(1500, ctx.options.observeMs ?? 1500) - Date.now()), ctx.signal);
      if (gen.ended()) return skip(`the generation ended before its keep_alive (${keepAlive}) ran out`);
      const busy = await ctx.client.ps();
      const during = busy && findPs(busy, ctx.model);
      if (!during)
        return fail(
          'still listed (expires_at in the past) while its generation runs',
          busy ? 'unloaded at its keep_alive while busy' : '/api/ps did not answer',
        );
      const expBusy = Date.parse(during.expires_at);
      if (expBusy > Date.now())
        return fail(
          'expires_at left in the past while busy',
          `expires_at refreshed to ${during.expires_at} while busy`,
        );
      gen.abort();
      await gen.finished;
      const after = await waitFor(
        async () => {
          const ps = await ctx.client.ps();
          const e = ps && findPs(ps, ctx.model);
          if (!e) return 'gone';
          return Date.parse(e.expires_at) > expBusy ? e.expires_at : undefined;
        },
        2500,
        100,
        ctx.signal,
      );
      if (after === undefined || after === 'gone')
        return fail(
          'a new expires_at (now + keep_alive) once the request finished',
          after === 'gone' ? 'unloaded at once' : 'expires_at not reset within 2.5 s',
        );
      return pass(
        `expires_at ${Math.round((Date.now() - expBusy) / 1000)} s in the past while generating; reset to ${after} after it finished`,
      );
    } finally {
      gen.abort();
      await gen.finished;
    }
  },
};

export const row4UnloadAfterInflight: RowCheck = {
  row: 4,
  title: 'keep_alive:0 answers at once, unloads after the in-flight request',
  source:
    'server/routes.go GenerateHandler (empty prompt + keep_alive 0: sched.expireRunner, done_reason "unload" at ' +
    'once); server/sched.go expireRunner (refCount > 0: sessionDuration = 0 only) and processCompleted (last request ' +
    'done with sessionDuration 0: expiredCh, unload); same in v0.12.6',
  async run(ctx) {
    const notLoaded = await loadModel(ctx, '5m');
    if (notLoaded) return skip(notLoaded);
    const gen = longGeneration(ctx);
    try {
      const why = await allStreaming([gen], ctx);
      if (why) return skip(why);
      const a = await ctx.client.unload(ctx.model);
      const reason = (a.json as { done_reason?: unknown } | undefined)?.done_reason;
      if (a.status !== 200 || a.ms > 5000 || reason !== 'unload')
        return fail(
          'HTTP 200 done_reason "unload" at once',
          `${a.error ?? `HTTP ${a.status}`} after ${a.ms} ms, done_reason ${String(reason)}`,
        );
      await sleep(Math.min(1000, ctx.options.observeMs ?? 1000), ctx.signal);
      if (gen.ended()) return skip(`the generation ended after the unload request (${gen.error() ?? 'stopped'})`);
      const ps = await ctx.client.ps();
      if (!ps || !findPs(ps, ctx.model))
        return fail(
          'still listed while its generation runs',
          ps ? 'gone from /api/ps while the generation still streamed' : '/api/ps did not answer',
        );
      gen.abort();
      await gen.finished;
      const gone = await waitFor(
        async () => {
          const now = await ctx.client.ps();
          return now && !findPs(now, ctx.model) ? true : undefined;
        },
        15_000,
        200,
        ctx.signal,
      );
      if (!gone) return fail('unloaded once the in-flight generation finished', 'still listed 15 s after it finished');
      return pass(`unload answered in ${a.ms} ms; listed until the generation ended, then unloaded`);
    } finally {
      gen.abort();
      await gen.finished;
    }
  },
};

export const row8PsDuringLoad: RowCheck = {
  row: 8,
  title:
    '/api/ps during a cold load (< 0.30: lists it; llama-server runners (0.30+): answers without it; Ollama-engine ' +
    'runners >= 0.32.4: blocks until the load ends)',
  source:
    'server/sched.go Scheduler.load (runner.refMu held until WaitUntilRunning ends) and loadedModels (takes each ' +
    "runner's refMu: commit 6cd40001a, v0.32.4); v0.12.6 server/routes.go PsHandler (reads sched.loaded without the " +
    'runner lock: the loading model is listed with its planned size_vram)',
  async run(ctx) {
    if (!ctx.version) return skip(`server version "${ctx.versionText}" is not x.y.z: cannot tell which form applies`);
    const llamaServer = versionAtLeast(ctx.version, [0, 30, 0]);
    const mayBlock = versionAtLeast(ctx.version, [0, 32, 4]);
    await ctx.client.unload(ctx.model);
    const unloaded = await waitFor(
      async () => {
        const ps = await ctx.client.ps();
        return ps && !findPs(ps, ctx.model) ? true : undefined;
      },
      30_000,
      200,
      ctx.signal,
    );
    if (!unloaded) return skip(`${ctx.model} could not be unloaded first (still listed after 30 s)`);
    let loadEnd = 0;
    const load = ctx.client.load(ctx.model, { keep_alive: '5m' }).then((a) => {
      loadEnd = Date.now();
      return a;
    });
    ctx.loaded.add(ctx.model);
    await sleep(150, ctx.signal);
    const psSent = Date.now();
    const ps = await ctx.client.ps(300_000);
    const psEnd = Date.now();
    const loaded = await load;
    if (loaded.status !== 200) return skip(`the cold load failed: ${loaded.error ?? `HTTP ${loaded.status}`}`);
    if (loadEnd - psSent < 500)
      return skip(
        `the load ended ${loadEnd - psSent} ms after /api/ps was sent: too fast to observe (use a bigger --model)`,
      );
    const entry = ps && findPs(ps, ctx.model);
    const duringLoad = psEnd < loadEnd - 200;
    if (llamaServer) {
      if (!duringLoad) {
        if (mayBlock)
          return pass(`/api/ps waited ${psEnd - psSent} ms, answering ${psEnd - loadEnd} ms after the load ended`);
        return fail(
          `/api/ps (${ctx.versionText} < 0.32.4) answers during the cold load`,
          `answered only ${psEnd - loadEnd} ms after the load ended`,
        );
      }
      if (entry)
        return fail(
          `a llama-server runner (${ctx.versionText}) is listed only once it runs`,
          `listed while loading (size_vram ${entry.size_vram})`,
        );
      return pass(`answered during the load (${loadEnd - psEnd} ms before it ended) without the loading model`);
    }
    if (!duringLoad)
      return fail(
        `/api/ps (${ctx.versionText} < 0.30) answers during the cold load, listing the loading model`,
        `answered only ${psEnd - loadEnd} ms after the load ended (waited ${psEnd - psSent} ms)`,
      );
    if (!entry) return fail('the loading model is listed', `answered during the load without ${ctx.model}`);
    return pass(`listed while loading (size_vram ${entry.size_vram}), ${loadEnd - psEnd} ms before the load ended`);
  },
};

export const schedulingRows: readonly RowCheck[] = [
  row1SlotsWait,
  row2ExpiryWhileBusy,
  row4UnloadAfterInflight,
  row8PsDuringLoad,
];
