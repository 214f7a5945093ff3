#!/usr/bin/env node
// Entry point of every command, and the one file that lists them: the only file in shared/ allowed to import the
// commands (exporter/, remediator/, shared/init/). Only node: built-ins are loaded before the Node version check, so
// an old Node gets a clear message instead of a syntax error from a dependency.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CommandDef } from './command-def.js';
import { checkNodeVersion } from './check-node-version.js';

/** Every command of the one `ollama-sentinel` binary (their config sections are needed to validate a shared file). */
export async function loadCommands(): Promise<CommandDef[]> {
  const modules = await Promise.all([
    import('../../exporter/exporter-command.js'),
    import('../../remediator/remediator-command.js'),
    import('../init/init-command.js'),
    import('../../remediator/explain-command.js'),
  ]);
  return modules.map((m) => m.command);
}

function isProgram(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// Imported (by tests, for the list above) it does nothing; run as the program, it runs the CLI.
if (isProgram()) {
  const tooOld = checkNodeVersion(process.version);
  if (tooOld) {
    process.stderr.write(`${tooOld}\n`);
    process.exit(2);
  }
  const { runCli } = await import('./run-cli.js');
  process.exitCode = await runCli(await loadCommands(), process.argv.slice(2), process.env, process);
}
