import { ConfigError } from '../config/config-issues.js';
import { loadConfig } from '../config/load-config.js';
import { flagNameFor } from '../config/scalar-field.js';
import { createLogger } from '../log/create-logger.js';
import { EXIT_FAILURE, EXIT_USAGE, type CommandDef } from './command-def.js';
import { formatHelp } from './format-help.js';
import { parseCommandLine } from './parse-command-line.js';
import { readVersion } from '../version.js';

interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  on(signal: 'SIGTERM' | 'SIGINT', fn: () => void): unknown;
  on(event: 'unhandledRejection', fn: (reason: unknown) => void): unknown;
}

/** Parses argv, loads and validates config, and runs one command; returns the exit code. */
export async function runCli(
  commands: readonly CommandDef[],
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: Io,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === 'version') {
    io.stdout.write(`ollama-sentinel ${readVersion()}\n`);
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    const usage = topLevelHelp(commands);
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      io.stdout.write(usage);
      return name === undefined ? EXIT_USAGE : 0;
    }
    io.stderr.write(`ollama-sentinel: unknown command "${name}"\n\n${usage}`);
    return EXIT_USAGE;
  }
  const parsed = parseCommandLine(rest, {
    config: { kind: 'string', doc: '' },
    help: { kind: 'bool', doc: '' },
    version: { kind: 'bool', doc: '' },
    ...cmd.options,
  });
  if (parsed.options.has('help')) {
    io.stdout.write(formatHelp(cmd));
    return 0;
  }
  if (parsed.options.has('version')) {
    io.stdout.write(`ollama-sentinel ${readVersion()}\n`);
    return 0;
  }
  if (parsed.errors.length > 0) {
    io.stderr.write(`ollama-sentinel ${cmd.name}: ${parsed.errors.join('; ')}\n`);
    return EXIT_USAGE;
  }
  const overrides = new Map(parsed.overrides);
  for (const [alias, path] of Object.entries(cmd.flagAliases ?? {})) {
    const value = overrides.get(alias);
    if (value === undefined) continue;
    if (overrides.has(path)) {
      io.stderr.write(
        `ollama-sentinel ${cmd.name}: --${alias} and ${flagNameFor(path)} are the same setting: pass one\n`,
      );
      return EXIT_USAGE;
    }
    overrides.delete(alias);
    overrides.set(path, value);
  }
  const file = (parsed.options.get('config') as string | undefined) ?? (env.SENTINEL_CONFIG || undefined);
  let config;
  try {
    config = loadConfig({
      file,
      flags: overrides,
      env,
      sections: cmd.sections,
      otherSectionKeys: commands.flatMap((c) => c.sections.map((s) => s.key)),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`ollama-sentinel ${cmd.name}: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  // `command`, not `component`: the commands' parts add their own `component`, and a JSON line has one of each key.
  const log = createLogger(config.log.level, undefined, config.log.format).child({ command: cmd.name });
  const shutdown = new AbortController();
  const stop = (signal: string) => {
    if (shutdown.signal.aborted) return;
    log.info({ signal }, 'shutting down');
    shutdown.abort(new Error(signal));
  };
  io.on('SIGTERM', () => stop('SIGTERM'));
  io.on('SIGINT', () => stop('SIGINT'));
  // A long-running service must not die of one forgotten promise (Node 20 exits on an unhandled rejection):
  // log it loudly and keep serving; every known failure path is handled where it happens.
  io.on('unhandledRejection', (reason) =>
    log.error({ err: reason }, 'unhandled promise rejection (a bug: please report it); continuing'),
  );
  try {
    return await cmd.run({
      config,
      options: parsed.options,
      positionals: parsed.positionals,
      log,
      env,
      stderr: io.stderr,
      stdout: io.stdout,
      shutdown: shutdown.signal,
    });
  } catch (err) {
    // A command may find more configuration problems (files it reads, settings that conflict): still exit 2.
    if (err instanceof ConfigError) {
      io.stderr.write(`ollama-sentinel ${cmd.name}: ${err.message}\n`);
      return EXIT_USAGE;
    }
    log.fatal({ err }, 'command failed');
    io.stderr.write(`ollama-sentinel ${cmd.name}: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
}

function topLevelHelp(commands: readonly CommandDef[]): string {
  return [
    'Usage: ollama-sentinel <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    '',
    'Run `ollama-sentinel <command> --help` for its options and configuration.',
    '',
  ].join('\n');
}
