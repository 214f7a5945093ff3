import type { ModelConfig, OllamaTargetConfig } from '../config/types.js';
import { ensureModel, ProvisionError, type ProvisionClient, type ProvisionEvents } from '../provision/ensure-model.js';
import { abortableSleep, backoffDelay, type BackoffPolicy, type SleepFn } from '../provision/run-with-retries.js';
import { verifyModel } from '../provision/verify-model.js';
import { waitForOllama } from '../provision/wait-for-ollama.js';
import { formatSummary } from './format-summary.js';
import { formatDurationMs, ProgressReporter, type ProgressStream } from './init-progress.js';
import { initExitCode, INIT_EXIT, type ModelOutcome, type TargetOutcome } from './init-outcome.js';
import type { InitConfig } from './init-section.js';

/** The structured log (pino in the command); JSON lines on stdout. */
export interface InitLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface InitMode {
  /** Pull or re-create models even when present. */
  readonly update: boolean;
  /** Load each model and check GPU placement and a one-token answer. */
  readonly verify: boolean;
  /** Wait until the models are present (and verified), never pull: for a dependent's entrypoint under Swarm. */
  readonly check: boolean;
}

export interface RunInitInput {
  readonly targets: readonly OllamaTargetConfig[];
  readonly models: readonly ModelConfig[];
  readonly settings: InitConfig;
  readonly mode: InitMode;
  readonly createClient: (target: OllamaTargetConfig) => ProvisionClient;
  /** Human-facing progress, per-attempt lines and the summary. */
  readonly stderr: ProgressStream;
  readonly log: InitLog;
  readonly signal: AbortSignal;
  readonly now?: () => number;
  readonly sleep?: SleepFn;
  readonly random?: () => number;
}

export interface RunInitResult {
  readonly exitCode: number;
  readonly targets: readonly TargetOutcome[];
  readonly interrupted: boolean;
}

/**
 * The init run: for each target in turn, wait for its API, then make its models present (or, with --check, wait
 * until they are), then verify them one at a time. Every model is attempted even after another failed, so the summary
 * is complete; the exit code is the lowest failure code (see INIT_EXIT).
 */
export async function runInit(input: RunInitInput): Promise<RunInitResult> {
  const now = input.now ?? Date.now;
  const sleep = input.sleep ?? abortableSleep;
  const started = now();
  const { settings, mode } = input;
  const backoff: BackoffPolicy = { initialMs: settings.retry_backoff_ms, maxMs: settings.retry_backoff_max_ms };
  const outcomes: TargetOutcome[] = [];
  let interrupted = false;

  try {
    for (const target of input.targets) {
      const prefix = `init ${target.name}: `;
      const reporter = new ProgressReporter({
        stream: input.stderr,
        intervalMs: settings.progress_interval_ms,
        prefix,
        now,
      });
      const say = (text: string): void => reporter.line(`${prefix}${text}`);
      const client = input.createClient(target);
      const models = modelsForTarget(input.models, target.name);
      // --check promises its caller an answer within wait_timeout of starting; init gives each target that long.
      const waitMs = mode.check ? Math.max(0, started + settings.wait_timeout_ms - now()) : settings.wait_timeout_ms;

      const wait = await waitForOllama(client, {
        timeoutMs: waitMs,
        backoff,
        signal: input.signal,
        now,
        sleep,
        ...(input.random ? { random: input.random } : {}),
        onAttemptFailed: (e) => {
          const what = `Ollama at ${target.url} not answering (attempt ${e.attempt}: ${e.error.message})`;
          if (e.retryInMs !== undefined)
            say(
              `${what}; next try in ${formatDurationMs(e.retryInMs)}, giving up in ${formatDurationMs(e.remainingMs)}`,
            );
          else say(`${what}; giving up`);
        },
      });
      if (!wait.ok) {
        const problem = wait.gaveUpEarly
          ? `${wait.error.message} (waiting cannot fix this)`
          : `no answer within ${formatDurationMs(waitMs)}: ${wait.error.message}`;
        input.log.error(
          { target: target.name, url: target.url, attempts: wait.attempts, reason: wait.error.reason },
          'ollama unreachable',
        );
        outcomes.push({
          target: target.name,
          url: target.url,
          wait: { ok: false, attempts: wait.attempts, waitedMs: wait.waitedMs, problem },
          models: [],
        });
        continue;
      }
      say(
        `Ollama ${wait.version} is up at ${target.url} (${wait.attempts} attempt${wait.attempts === 1 ? '' : 's'}, ${formatDurationMs(wait.waitedMs)})`,
      );
      input.log.info(
        { target: target.name, version: wait.version, attempts: wait.attempts, waitedMs: wait.waitedMs },
        'ollama reachable',
      );
      const waitOutcome = { ok: true, version: wait.version, attempts: wait.attempts, waitedMs: wait.waitedMs };

      const modelOutcomes = mode.check
        ? await checkModels(client, target, models, started + settings.wait_timeout_ms, say)
        : await provisionModels(client, target, models, reporter, say);
      outcomes.push({ target: target.name, url: target.url, wait: waitOutcome, models: modelOutcomes });
    }
  } catch (err) {
    if (!input.signal.aborted) throw err;
    interrupted = true;
  }

  const exitCode = interrupted ? INIT_EXIT.FAILURE : initExitCode(outcomes);
  if (interrupted)
    input.stderr.write('init: interrupted (SIGTERM/SIGINT); a pull in progress resumes on the next run\n');
  input.stderr.write(formatSummary(outcomes, exitCode));
  input.log.info({ exitCode, durationMs: now() - started, interrupted }, 'init finished');
  return { exitCode, targets: outcomes, interrupted };

  async function provisionModels(
    client: ProvisionClient,
    target: OllamaTargetConfig,
    models: readonly ModelConfig[],
    reporter: ProgressReporter,
    say: (text: string) => void,
  ): Promise<ModelOutcome[]> {
    const results = new Map<string, ModelOutcome>();
    const events: ProvisionEvents = {
      attemptStarted: (e) => reporter.start(e.model, e.stage === 'create' ? 'create' : 'pull', e.attempt),
      progress: (e) => reporter.update(e.progress),
      attemptFailed: (e) => {
        reporter.finish();
        const what = `${e.stage === 'show' ? 'checking' : e.stage} ${e.model} attempt ${e.attempt}/${e.maxAttempts} failed: ${e.error.message}`;
        if (e.retryInMs !== undefined) say(`${what}; retrying in ${formatDurationMs(e.retryInMs)}`);
        else say(`${what}${e.permanent ? ' (permanent error, not retried)' : ' (no retries left)'}`);
      },
    };
    for (const model of models) {
      const t0 = now();
      try {
        const result = await ensureModel(client, model, {
          update: mode.update,
          stallTimeoutMs: settings.stall_timeout_ms,
          retries: settings.pull_retries,
          backoff,
          insecure: settings.insecure,
          signal: input.signal,
          events,
          now,
          sleep,
          ...(input.random ? { random: input.random } : {}),
        });
        reporter.finish();
        if (result.action === 'present')
          say(`${model.name} is present${mode.update ? '' : ' (not pulled; --update pulls it again)'}`);
        else say(`${model.name} ${result.action} in ${formatDurationMs(result.durationMs)}`);
        input.log.info(
          {
            target: target.name,
            model: model.name,
            action: result.action,
            durationMs: result.durationMs,
            attempts: result.attempts,
            base: result.base,
          },
          'model ready',
        );
        results.set(model.name, { model: model.name, fetch: { ok: true, result } });
      } catch (err) {
        reporter.finish();
        if (input.signal.aborted || !(err instanceof ProvisionError)) throw err;
        input.log.error(
          {
            target: target.name,
            model: model.name,
            stage: err.stage,
            reason: err.details.reason,
            attempts: err.details.attempts,
            permanent: err.details.permanent,
            error: err.message,
          },
          'model provisioning failed',
        );
        results.set(model.name, {
          model: model.name,
          fetch: {
            ok: false,
            stage: err.stage,
            problem: err.details.cause instanceof Error ? err.details.cause.message : err.message,
            permanent: err.details.permanent,
            attempts: err.details.attempts,
            durationMs: now() - t0,
          },
        });
      }
    }
    if (mode.verify) {
      // One at a time, each unloaded afterwards unless keep_warm: the checks must not compete for VRAM.
      for (const model of models) {
        const outcome = results.get(model.name)!;
        if (outcome.fetch?.ok !== true) continue;
        say(
          `verifying ${model.name}: load, GPU placement (at least ${Math.round(model.min_vram_ratio * 100)}% in VRAM), one token`,
        );
        const verify = await verifyModel(client, model, {
          timeoutMs: settings.verify_timeout_ms,
          signal: input.signal,
          now,
        });
        reportVerify(target, model, verify, say);
        results.set(model.name, { ...outcome, verify });
      }
    }
    return models.map((m) => results.get(m.name)!);
  }

  function reportVerify(
    target: OllamaTargetConfig,
    model: ModelConfig,
    verify: Awaited<ReturnType<typeof verifyModel>>,
    say: (text: string) => void,
  ): void {
    const unload =
      verify.unloadProblem !== undefined
        ? `; unloading afterwards failed: ${verify.unloadProblem}`
        : verify.unloaded
          ? '; unloaded (not keep_warm)'
          : '';
    const fields = {
      target: target.name,
      model: model.name,
      stage: verify.stage,
      vramRatio: verify.offload?.ratio,
      loadMs: verify.loadMs,
      generateMs: verify.generateMs,
      unloaded: verify.unloaded,
    };
    if (verify.skipped !== undefined) {
      say(`${model.name} ${verify.skipped}`);
      input.log.warn({ ...fields, skipped: verify.skipped }, 'model not verified');
    } else if (verify.ok) {
      say(
        `${model.name} verified: ${Math.floor((verify.offload?.ratio ?? 0) * 1000) / 10}% in VRAM, loaded in ${formatDurationMs(verify.loadMs ?? 0)}, answered in ${formatDurationMs(verify.generateMs ?? 0)}${unload}`,
      );
      input.log.info(fields, 'model verified');
    } else {
      say(`${model.name} verification FAILED (${verify.stage}): ${verify.problem}${unload}`);
      input.log.error({ ...fields, problem: verify.problem }, 'model verification failed');
    }
  }

  /** --check: poll (never pull) until every model is present, and verified with --verify, or the deadline passes. */
  async function checkModels(
    client: ProvisionClient,
    target: OllamaTargetConfig,
    models: readonly ModelConfig[],
    deadline: number,
    say: (text: string) => void,
  ): Promise<ModelOutcome[]> {
    const done = new Map<string, ModelOutcome>();
    const problems = new Map<string, string>();
    for (let round = 0; ; round++) {
      for (const model of models) {
        if (done.has(model.name)) continue;
        const problem = await checkOne(client, model, deadline);
        if (problem === undefined) {
          done.set(model.name, { model: model.name, check: { ok: true, durationMs: now() - started } });
          say(`${model.name} is ready${mode.verify ? ' (verified on the GPU)' : ' (present)'}`);
          input.log.info({ target: target.name, model: model.name, verified: mode.verify }, 'model ready (check)');
        } else problems.set(model.name, problem);
      }
      const pending = models.filter((m) => !done.has(m.name));
      if (pending.length === 0) return models.map((m) => done.get(m.name)!);
      const left = deadline - now();
      const list = pending.map((m) => `${m.name} (${problems.get(m.name)})`).join(', ');
      if (left <= 0) {
        say(`--check: still not ready at the deadline: ${list}`);
        input.log.error({ target: target.name, pending: pending.map((m) => m.name) }, 'check not satisfied');
        return models.map(
          (m) =>
            done.get(m.name) ?? {
              model: m.name,
              check: { ok: false, problem: problems.get(m.name)!, durationMs: now() - started },
            },
        );
      }
      const retryInMs = Math.min(backoffDelay(round, backoff, input.random), left);
      say(
        `--check: waiting for ${list}; next check in ${formatDurationMs(retryInMs)}, giving up in ${formatDurationMs(left)}`,
      );
      await sleep(retryInMs, input.signal);
    }
  }

  /** undefined when ready, otherwise why not. */
  async function checkOne(client: ProvisionClient, model: ModelConfig, deadline: number): Promise<string | undefined> {
    try {
      const shown = await client.show(model.name, { signal: input.signal });
      if (shown === null) return 'not present';
    } catch (err) {
      if (input.signal.aborted) throw err;
      return `presence check failed: ${(err as Error).message}`;
    }
    if (!mode.verify) return undefined;
    const timeoutMs = Math.min(settings.verify_timeout_ms, Math.max(1000, deadline - now()));
    const verify = await verifyModel(client, model, { timeoutMs, signal: input.signal, now });
    return verify.ok ? undefined : `verification failed (${verify.stage}): ${verify.problem}`;
  }
}

/** The models of the `models:` list that belong on a target: those naming it, and those naming no target at all. */
export function modelsForTarget(models: readonly ModelConfig[], target: string): ModelConfig[] {
  return models.filter((m) => m.targets.length === 0 || m.targets.includes(target));
}
