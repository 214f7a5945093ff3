/**
 * Opt-in conformance check: verifies rows 1-13 of issue 9 (what a real Ollama does) against a server an operator
 * points it at, observing only what a client sees over HTTP (and /proc on the same host with --proc). No real Ollama
 * runs in CI; the simulator is checked against the same rows by test/unit/conformance/.
 *
 * It loads and unloads models, so point it at a server that is not serving users. Every row is bounded in time; at
 * the end it deletes the models it created and unloads the ones it loaded that were not resident before.
 */
import { parseArgs } from 'node:util';
import { ConformanceClient, findPs } from './conformance-client.js';
import type { ConformanceContext, ConformanceOptions, RowCheck, RowOutcome, RowResult } from './conformance-context.js';
import { fail, parseVersion, skip } from './conformance-context.js';
import { apiRows } from './conformance-rows-api.js';
import { runnerRows } from './conformance-rows-runner.js';
import { schedulingRows } from './conformance-rows-scheduling.js';

export const ALL_ROWS: readonly RowCheck[] = [...schedulingRows, ...runnerRows, ...apiRows].sort(
  (a, b) => a.row - b.row,
);

export interface ConformanceReport {
  readonly ollama: string;
  readonly version: string;
  readonly model: string;
  readonly results: RowResult[];
  /** Clean-up steps that failed (the operator may have to delete or unload by hand). */
  readonly cleanupProblems: string[];
}

export async function runConformance(
  options: ConformanceOptions,
  onResult: (r: RowResult) => void = () => {},
): Promise<ConformanceReport> {
  let rowSignal = new AbortController().signal;
  const client = new ConformanceClient(options.ollama, () => rowSignal);
  const versionText = await client.version();
  const model = options.model ?? (await smallestModel(client));
  const residentAtStart = new Set(((await client.ps()) ?? []).map((m) => m.name));
  const loaded = new Set<string>();
  const created = new Set<string>();
  const results: RowResult[] = [];
  for (const check of ALL_ROWS.filter((c) => options.rows.includes(c.row))) {
    const ac = new AbortController();
    rowSignal = ac.signal;
    const ctx: ConformanceContext = {
      options,
      client,
      version: parseVersion(versionText),
      versionText,
      model: model ?? '',
      signal: ac.signal,
      loaded,
      created,
    };
    const started = Date.now();
    const limitS = Math.max(options.rowTimeoutS, check.timeoutS ?? 0);
    let outcome: RowOutcome;
    if (check.needsModel !== false && !model) {
      outcome = skip('no local completion model: pull a small one or pass --model NAME');
    } else {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<RowOutcome>((resolve) => {
        timer = setTimeout(() => {
          ac.abort();
          resolve(fail(`the check finishes within ${limitS} s`, 'it did not (its requests were aborted)'));
        }, limitS * 1000);
      });
      outcome = await Promise.race([
        check.run(ctx).catch((err: unknown) => fail('the check runs', `error: ${(err as Error).message}`)),
        timeout,
      ]);
      clearTimeout(timer);
      ac.abort(); // ends whatever the row left running (streams it did not stop)
    }
    const result: RowResult = {
      row: check.row,
      title: check.title,
      source: check.source,
      ms: Date.now() - started,
      ...outcome,
    };
    results.push(result);
    onResult(result);
  }
  rowSignal = new AbortController().signal;
  const cleanupProblems = await cleanUp(client, created, loaded, residentAtStart);
  return { ollama: options.ollama, version: versionText, model: model ?? '', results, cleanupProblems };
}

async function cleanUp(
  client: ConformanceClient,
  created: Set<string>,
  loaded: Set<string>,
  residentAtStart: Set<string>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const name of created) {
    const a = await client.request('DELETE', '/api/delete', { model: name }, 30_000);
    // 404: the row never got as far as creating it.
    if (a.status !== 200 && a.status !== 404) problems.push(`delete ${name}: ${a.error ?? `HTTP ${a.status}`}`);
  }
  const ps = (await client.ps()) ?? [];
  for (const name of loaded) {
    const entry = findPs(ps, name);
    if (!entry || residentAtStart.has(entry.name)) continue;
    const a = await client.unload(name);
    if (a.status !== 200) problems.push(`unload ${name}: ${a.error ?? `HTTP ${a.status}`}`);
  }
  return problems;
}

/** The smallest local model that is not an embedding model (families *bert, names *embed*). */
async function smallestModel(client: ConformanceClient): Promise<string | undefined> {
  const tags = await client.tags();
  const usable = tags.filter((m) => !/bert$/i.test(m.details?.family ?? '') && !/embed/i.test(m.name));
  return usable.sort((a, b) => a.size - b.size)[0]?.name;
}

export function formatReport(report: ConformanceReport): string {
  return [...report.results.flatMap(formatResult), formatSummary(report)].join('\n');
}

/** The last lines: clean-up problems, the server, the counts. */
export function formatSummary(report: ConformanceReport): string {
  const count = (s: string) => report.results.filter((r) => r.status === s).length;
  return [
    ...report.cleanupProblems.map((p) => `clean-up: ${p}`),
    `Ollama ${report.version} at ${report.ollama}, model ${report.model || '-'}: ` +
      `${count('PASS')} passed, ${count('FAIL')} failed, ${count('SKIP')} skipped`,
  ].join('\n');
}

export function formatResult(r: RowResult): string[] {
  const head = `row ${String(r.row).padStart(2)}  ${r.status}  ${r.title}  (${(r.ms / 1000).toFixed(1)} s)`;
  if (r.status === 'PASS') return [head, `          seen:     ${r.seen}`];
  if (r.status === 'SKIP') return [head, `          why:      ${r.reason}`];
  return [
    head,
    `          expected: ${r.expected}`,
    `          seen:     ${r.seen}`,
    `          source:   ${r.source}`,
  ];
}

export const USAGE = `usage: npm run conformance -- --ollama URL [options]
  --model NAME          a small local completion model (default: the smallest in /api/tags)
  --num-parallel N      the server's OLLAMA_NUM_PARALLEL (row 1)
  --gpu-vram-gib N      total GPU memory less OLLAMA_GPU_OVERHEAD (row 9)
  --context-length N    the server's OLLAMA_CONTEXT_LENGTH, when set (row 9)
  --create-base NAME    a tiny model that is not local and can be pulled (row 11; deleted afterwards)
  --proc                the server runs on this host: read /proc (rows 7 and 3)
  --server-pid PID      the ollama serve process (rows 3 and 7; default: the one listening on the URL's port here)
  --destructive         allow row 3 (SIGKILLs the runner; needs --proc) and row 5 (needs --oom-model)
  --oom-model NAME      a local model too big for this machine (row 5)
  --rows 1,2,13         rows to run (default 1-13)
  --row-timeout-s N     upper bound per row (default 120; row 11 allows 900)
  --json                print the report as JSON`;

/** Parses the command line; throws with a message for the usage text. */
export function parseConformanceArgs(argv: readonly string[]): ConformanceOptions & { json: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      ollama: { type: 'string' },
      model: { type: 'string' },
      'num-parallel': { type: 'string' },
      'gpu-vram-gib': { type: 'string' },
      'context-length': { type: 'string' },
      'create-base': { type: 'string' },
      'oom-model': { type: 'string' },
      proc: { type: 'boolean', default: false },
      'proc-root': { type: 'string' },
      'server-pid': { type: 'string' },
      destructive: { type: 'boolean', default: false },
      rows: { type: 'string' },
      'row-timeout-s': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.ollama) throw new Error('--ollama URL is required');
  const url = new URL(values.ollama);
  const num = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}`);
    return n;
  };
  const rows = values.rows === undefined ? ALL_ROWS.map((r) => r.row) : values.rows.split(',').map((r) => Number(r));
  if (rows.some((r) => !ALL_ROWS.some((c) => c.row === r))) throw new Error('--rows takes row numbers from 1 to 13');
  return {
    ollama: url.toString(),
    model: values.model,
    numParallel: num('num-parallel', values['num-parallel'], 1),
    gpuVramGib: num('gpu-vram-gib', values['gpu-vram-gib'], 0),
    contextLength: num('context-length', values['context-length'], 1),
    createBase: values['create-base'],
    oomModel: values['oom-model'],
    proc: values.proc ?? false,
    procRoot: values['proc-root'],
    serverPid: num('server-pid', values['server-pid'], 1),
    destructive: values.destructive ?? false,
    rows,
    rowTimeoutS: num('row-timeout-s', values['row-timeout-s'], 1) ?? 120,
    json: values.json ?? false,
  };
}
