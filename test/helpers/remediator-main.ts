// Runs `ollama-sentinel remediator` as its own process for the integration tests, through the real CLI.
import { loadCommands } from '../../shared/cli/main.js';
import { runCli } from '../../shared/cli/run-cli.js';

process.exitCode = await runCli(await loadCommands(), ['remediator', ...process.argv.slice(2)], process.env, process);
