#!/usr/bin/env node
// Entry point of every command. Only node: built-ins are loaded before the Node version check, so an old Node
// gets a clear message instead of a syntax error from a dependency.
import { checkNodeVersion } from './check-node-version.js';

const tooOld = checkNodeVersion(process.version);
if (tooOld) {
  process.stderr.write(`${tooOld}\n`);
  process.exit(2);
}

const { runCli } = await import('./run-cli.js');
process.exitCode = await runCli(process.argv.slice(2), process.env, process);
