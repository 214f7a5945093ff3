/**
 * Rows 10 to 13 of issue 9: model names, create-with-pull, prompt timings, HEAD /api/ps. Each expectation cites where
 * it was read in Ollama's source.
 */
import { randomBytes } from 'node:crypto';
import type { RowCheck } from './conformance-context.js';
import { fail, pass, skip } from './conformance-context.js';
import { withTag } from './conformance-client.js';

const CASE_NAME = 'sentinel-conformance-Case:Check10';
const CREATE_NAME = 'sentinel-conformance-create:check11';

export const row10NameCase: RowCheck = {
  row: 10,
  title: '/api/tags keeps the stored case; a differently cased name finds the model',
  source:
    'server/routes.go getExistingName (each name part matched with strings.EqualFold against the stored manifests; ' +
    'used by show, delete, copy, generate) and ListHandler (lists the stored names); same in v0.12.6',
  async run(ctx) {
    const lower = CASE_NAME.toLowerCase();
    const before = await ctx.client.tags();
    if (before.some((m) => withTag(m.name).toLowerCase() === lower))
      return skip(`a model named ${CASE_NAME} (any case) exists already: delete it first`);
    const copy = await ctx.client.request('POST', '/api/copy', { source: ctx.model, destination: CASE_NAME });
    if (copy.status !== 200) return skip(`/api/copy ${ctx.model} -> ${CASE_NAME}: HTTP ${copy.status} ${copy.text}`);
    ctx.created.add(CASE_NAME);
    const tags = await ctx.client.tags();
    const entry = tags.find((m) => withTag(m.name).toLowerCase() === lower);
    if (!entry) return fail(`${CASE_NAME} listed in /api/tags`, 'not listed after /api/copy');
    if (entry.name !== CASE_NAME) return fail(`listed as ${CASE_NAME} (the case it was stored with)`, entry.name);
    const show = await ctx.client.request('POST', '/api/show', { model: lower });
    if (show.status !== 200)
      return fail(`/api/show ${lower} finds ${CASE_NAME} (HTTP 200)`, `HTTP ${show.status} ${show.text.slice(0, 120)}`);
    return pass(`listed as ${entry.name}; /api/show ${lower} answered 200`);
  },
};

export const row11CreateWithPull: RowCheck = {
  row: 11,
  title: "/api/create with a missing base streams the pull's success before its own",
  source:
    'server/create.go CreateHandler -> server/model.go parseFromModel (base not local: PullModel with the create ' +
    'stream\'s fn; server/images.go PullModel ends with {"status":"success"}), then CreateHandler\'s own final ' +
    '{"status":"success"}; same in v0.12.6 (server/model.go parseFromModel)',
  timeoutS: 900,
  needsModel: false,
  async run(ctx) {
    const baseName = ctx.options.createBase;
    if (!baseName)
      return skip(
        'needs --create-base NAME: a tiny model that is not local and that the server can pull (deleted after)',
      );
    const tags = await ctx.client.tags();
    if (tags.some((m) => withTag(m.name).toLowerCase() === withTag(baseName).toLowerCase()))
      return skip(`${baseName} is local already: delete it first or name another --create-base`);
    if (tags.some((m) => withTag(m.name).toLowerCase() === CREATE_NAME))
      return skip(`a model named ${CREATE_NAME} exists already: delete it first`);
    ctx.created.add(CREATE_NAME);
    ctx.created.add(baseName);
    const s = ctx.client.stream('/api/create', { model: CREATE_NAME, from: baseName });
    await s.finished;
    if (s.status() !== 200) return fail('HTTP 200 and a stream', `HTTP ${s.status()} ${s.error() ?? ''}`.trim());
    const statuses = s.lines().map((l) => (typeof l.error === 'string' ? `error: ${l.error}` : String(l.status)));
    const err = statuses.find((st) => st.startsWith('error: '));
    if (err) return fail("the pull's lines, its success, then create's success", err);
    const successes = statuses.flatMap((st, i) => (st === 'success' ? [i] : []));
    const firstPull = statuses.findIndex((st) => st.startsWith('pulling'));
    const last = statuses.length - 1;
    const shape = `${statuses.length} lines, success at ${successes.join(', ')}, first "pulling" at ${firstPull}`;
    if (successes.length < 2 || firstPull < 0 || firstPull > successes[0]! || successes.at(-1) !== last)
      return fail('pulling lines, the pull\'s "success", more lines, a final "success"', shape);
    return pass(shape);
  },
};

export const row12PromptCache: RowCheck = {
  row: 12,
  title: 'prompt_eval_count counts cached prompt tokens, prompt_eval_duration does not',
  source:
    'llm/llama_server.go llamaServerTimings.promptEvalCount (cache_n + prompt_n) vs PromptEvalDuration (prompt_ms, ' +
    'uncached tokens only); v0.12.6 runner/ollamarunner/runner.go (PromptEvalCount = numPromptInputs, every prompt ' +
    'token; PromptEvalDuration = processingDuration of the batches evaluated after the cache reuse)',
  async run(ctx) {
    // A fresh nonce first, so nothing of this prompt is cached before the first request.
    const words = Array.from({ length: 600 }, (_, i) => `word${i % 97}`).join(' ');
    const prompt = `${randomBytes(8).toString('hex')} Repeat nothing. ${words}`;
    const body = { model: ctx.model, prompt, stream: false, keep_alive: '5m', options: { num_predict: 1 } };
    ctx.loaded.add(ctx.model);
    const first = await ctx.client.request('POST', '/api/generate', body, 300_000);
    const second = await ctx.client.request('POST', '/api/generate', body, 120_000);
    if (first.status !== 200 || second.status !== 200)
      return skip(`generate failed: HTTP ${first.status}/${second.status} ${first.error ?? second.error ?? ''}`);
    type Timings = { prompt_eval_count?: number; prompt_eval_duration?: number };
    const a = first.json as Timings;
    const b = second.json as Timings;
    const c1 = a.prompt_eval_count ?? 0;
    const c2 = b.prompt_eval_count ?? 0;
    const d1 = a.prompt_eval_duration ?? 0;
    const d2 = b.prompt_eval_duration ?? 0;
    const seen = `prompt_eval_count ${c1} then ${c2}, prompt_eval_duration ${ms(d1)} then ${ms(d2)}`;
    if (c1 <= 0 || c2 < c1 * 0.9) return fail('the same prompt_eval_count twice (cached tokens counted)', seen);
    if (d2 >= d1 * 0.5)
      return fail('a much shorter prompt_eval_duration the second time (cached tokens skipped)', seen);
    return pass(seen);
  },
};

const ms = (ns: number): string => `${(ns / 1e6).toFixed(1)} ms`;

export const row13HeadPs: RowCheck = {
  row: 13,
  title: 'HEAD /api/ps answers 405',
  source:
    'server/routes.go GenerateRoutes (r.HandleMethodNotAllowed = true; /api/ps is registered for GET only, so gin ' +
    'answers 405 to HEAD); same in v0.12.6',
  needsModel: false,
  async run(ctx) {
    const a = await ctx.client.request('HEAD', '/api/ps', undefined, 10_000);
    if (a.status === 405) return pass('HTTP 405');
    return fail('HTTP 405 (Method Not Allowed)', a.status === 0 ? (a.error ?? 'no answer') : `HTTP ${a.status}`);
  },
};

export const apiRows: readonly RowCheck[] = [row10NameCase, row11CreateWithPull, row12PromptCache, row13HeadPs];
