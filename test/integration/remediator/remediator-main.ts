// Runs `ollama-sentinel remediator` as its own process for the integration tests: through the real CLI when the
// command is registered in shared/cli/commands.ts, otherwise the same command object behind the same config loading.
import { loadCommands } from '../../../shared/cli/commands.js';
import { runCli } from '../../../shared/cli/run-cli.js';
import { parseCommandLine } from '../../../shared/cli/parse-command-line.js';
import { loadConfig } from '../../../shared/config/load-config.js';
import { createLogger } from '../../../shared/log/create-logger.js';
import { command } from '../../../remediator/remediator-command.js';

const argv = process.argv.slice(2);
if ((await loadCommands()).some((c) => c.name === 'remediator')) {
  process.exitCode = await runCli(['remediator', ...argv], process.env, process);
} else {
  const parsed = parseCommandLine(argv, { config: { kind: 'string', doc: '' }, ...command.options });
  const config = loadConfig({ file: parsed.options.get('config') as string, flags: parsed.overrides, env: process.env, sections: command.sections });
  const log = createLogger(config.log.level).child({ component: 'remediator' });
  const shutdown = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => shutdown.abort(new Error(signal)));
  process.exitCode = await command.run({ config, options: parsed.options, positionals: parsed.positionals, log, env: process.env, stderr: process.stderr, stdout: process.stdout, shutdown: shutdown.signal });
}
