import { once } from 'node:events';
import { EXIT_FAILURE, EXIT_OK, type CommandDef } from '../shared/cli/command-def.js';
import { ConfigError, type ConfigIssue } from '../shared/config/config-issues.js';
import { readBuildInfo } from '../shared/version.js';
import { selfConflicts } from './config/validate-self.js';
import { authProblem, remediatorSection, type RemediatorConfig } from './remediator-section.js';
import { remediatorFileIssues } from './wiring/remediator-files.js';
import { resetBreakerFromCli } from './wiring/reset-breaker-offline.js';

export const command: CommandDef = {
  name: 'remediator',
  summary:
    'Alertmanager webhook receiver that heals the Ollama stack safely (ladders, cooldowns, breaker, quiet hours).',
  description: `Receives Alertmanager webhooks (payload version 4) on POST /webhook, records every alert durably
before answering, and heals each incident in the background: diagnosis first (the exporter's /api/state plus
nvidia-smi inside the container), then the rule's ladder from the step that fits, verifying recovery after each
step. Conditions a restart cannot fix (host GPU faults, partial offload, out of memory, overload) are escalated.
Safety: a lock per target, cooldown per target and action, max attempts per incident, a circuit breaker that
only an operator resets, dry-run, quiet hours. State, journal and audit log live in remediator.data_dir.
Endpoints: POST /webhook, GET /metrics, GET /api/incidents, POST /api/breaker/reset, GET /healthz (/-/healthy), GET /readyz (/-/ready).
  --reset-breaker   reset the circuit breaker (asks the running instance, else edits the state file) and exit
Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad usage or configuration (e.g. no credentials, a missing
or empty secret file, an unusable certificate: every problem is listed).`,
  sections: [remediatorSection],
  options: {
    'reset-breaker': { kind: 'bool', doc: 'Reset the circuit breaker and exit.' },
    operator: { kind: 'string', doc: 'Name recorded with --reset-breaker (default: $USER).' },
  },
  async run(ctx) {
    const cfg = ctx.config.remediator as RemediatorConfig;
    if (ctx.options.has('reset-breaker')) {
      const by = (ctx.options.get('operator') as string | undefined) ?? ctx.env.USER ?? 'cli';
      try {
        ctx.stdout.write(`${await resetBreakerFromCli(cfg, by)}\n`);
        return EXIT_OK;
      } catch (err) {
        ctx.stderr.write(`ollama-sentinel remediator: cannot reset the breaker: ${(err as Error).message}\n`);
        return EXIT_FAILURE;
      }
    }
    // Every problem at once, before anything is started or written (exit 2 from runCli).
    const auth = authProblem(cfg);
    const problems: ConfigIssue[] = [
      ...(auth ? [auth] : []),
      ...selfConflicts(cfg.self, ctx.config.ollama).map((problem) => ({
        path: 'remediator.self',
        problem,
        fix: 'remove that target, or correct remediator.self',
      })),
      ...remediatorFileIssues(cfg, ctx.config.ollama),
    ];
    if (problems.length > 0) throw new ConfigError(problems, 'checked before starting');
    if (cfg.insecure_no_auth && !cfg.bearer_token_file && !cfg.basic_auth_username)
      ctx.log.warn('insecure_no_auth: anyone who can reach the listener can make this remediator restart containers');
    if (cfg.dry_run) ctx.log.warn('dry_run: decisions are logged, nothing is acted on');
    // Loaded here, not at the top: every command's definition is imported by the CLI, and the exporter's process
    // should not carry dockerode and the rest of the remediator's runtime.
    const { startRemediator } = await import('./wiring/start-remediator.js');
    const running = await startRemediator(ctx.config, ctx.log, { ...readBuildInfo(ctx.env), env: ctx.env });
    ctx.stderr.write(`ollama-sentinel remediator listening on ${running.url} (webhook at ${running.url}/webhook)\n`);
    if (!ctx.shutdown.aborted) await once(ctx.shutdown, 'abort');
    await running.stop();
    ctx.log.info('remediator stopped');
    return EXIT_OK;
  },
};
