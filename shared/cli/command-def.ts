import type { ConfigSection } from '../config/config-section.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../log/create-logger.js';
import type { CommandOption } from './parse-command-line.js';

export interface CommandContext {
  readonly config: LoadedConfig;
  readonly options: ReadonlyMap<string, string | true | string[]>;
  readonly positionals: readonly string[];
  readonly log: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Human-facing progress and summaries. */
  readonly stderr: NodeJS.WritableStream;
  readonly stdout: NodeJS.WritableStream;
  /** Fires on SIGTERM/SIGINT: long-running commands shut down cleanly and resolve. */
  readonly shutdown: AbortSignal;
}

/** Exit codes shared by every command; commands may add their own above 2 (documented in README). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CommandDef {
  readonly name: string;
  readonly summary: string;
  /** Longer text for --help: what it does, its exit codes. */
  readonly description: string;
  readonly sections: readonly ConfigSection[];
  readonly options: Readonly<Record<string, CommandOption>>;
  /**
   * Other spellings of config flags, by dotted path: `web.config.file` -> `exporter.web_config_file` lets the
   * exporter take the flag every Prometheus exporter takes.
   */
  readonly flagAliases?: Readonly<Record<string, string>>;
  run(ctx: CommandContext): Promise<number>;
}
