import { EXIT_USAGE, type CommandDef } from '../cli/command-def.js';
import { OllamaClient } from '../ollama/ollama-client.js';
import type { ProgressStream } from './init-progress.js';
import { initSection, type InitConfig } from './init-section.js';
import { runInit } from './run-init.js';

const DESCRIPTION = `
Replaces an "ollama pull" init container. For every target in ollama: (or only those named by --target) it waits
for the Ollama API (exponential backoff with jitter, up to init.wait_timeout), then for each model of models: that
belongs on the target: skips it when present (unless --update), otherwise pulls it strictly (an error line fails, the
final "success" is required, a stalled stream is aborted and retried, pulls resume), or builds it with /api/create
when it has create: (pulling its from model first when missing). With --verify (or init.verify) each model is then
loaded with its options and keep_alive, must sit at least min_vram_ratio on the GPU (/api/ps) and answer one token;
models not marked keep_warm are unloaded again.

--check never pulls: it waits until every model is present (and with --verify, verified), up to init.wait_timeout.
Use it in a dependent's entrypoint where depends_on does not exist (Swarm).

Progress goes to stderr (a live bar on a terminal, a line every init.progress_interval otherwise), JSON logs to
stdout, and a summary of what was present, pulled, created and verified, with durations, ends the run.

Exit codes:
  0  every model is ready
  1  interrupted (SIGTERM/SIGINT) or unexpected failure
  2  bad usage or configuration
  3  Ollama did not answer before init.wait_timeout
  4  a pull or create failed (permanent error such as an unknown model, or retries used up)
  5  verification failed (not enough in VRAM, CPU fallback, load or one-token answer failed)
  6  --check: a model was still missing (or not verified) at the deadline
When several things fail, the lowest code is returned.`;

/** `ollama-sentinel init`: the Compose init service (and Swarm entrypoint check) that makes models ready. */
export const command: CommandDef = {
  name: 'init',
  summary: 'Make the configured models present (and optionally verified on the GPU) on each Ollama target.',
  description: DESCRIPTION,
  sections: [initSection],
  options: {
    update: { kind: 'bool', doc: 'pull (or re-create) models even when present, to pick up a newer build of the tag' },
    verify: { kind: 'bool', doc: 'after provisioning, load each model and check GPU placement and a one-token answer' },
    check: {
      kind: 'bool',
      doc: 'never pull: wait until every model is present (and verified with --verify); exit 6 at the deadline',
    },
    target: { kind: 'list', doc: 'only these targets (names from ollama:), comma-separated or repeated' },
  },
  async run(ctx) {
    const settings = ctx.config.init as InitConfig;
    const wanted = ctx.options.get('target');
    const names = Array.isArray(wanted) ? wanted : [];
    const known = ctx.config.ollama.map((t) => t.name);
    const unknown = names.filter((n) => !known.includes(n));
    if (unknown.length > 0) {
      ctx.stderr.write(
        `ollama-sentinel init: --target ${unknown.join(', ')}: not declared under ollama: (declared: ${known.join(', ') || 'none'})\n`,
      );
      return EXIT_USAGE;
    }
    if (ctx.positionals.length > 0) {
      ctx.stderr.write(
        `ollama-sentinel init: unexpected argument "${ctx.positionals[0]}" (models come from models: in the config)\n`,
      );
      return EXIT_USAGE;
    }
    if (ctx.options.has('check') && ctx.options.has('update')) {
      ctx.stderr.write('ollama-sentinel init: --check never pulls, so --update cannot go with it\n');
      return EXIT_USAGE;
    }
    const targets = names.length > 0 ? ctx.config.ollama.filter((t) => names.includes(t.name)) : ctx.config.ollama;
    const result = await runInit({
      targets,
      models: ctx.config.models,
      settings,
      mode: {
        update: ctx.options.has('update'),
        verify: ctx.options.has('verify') || settings.verify,
        check: ctx.options.has('check'),
      },
      createClient: (target) => new OllamaClient(target),
      stderr: ctx.stderr as ProgressStream,
      log: ctx.log,
      signal: ctx.shutdown,
    });
    return result.exitCode;
  },
};
