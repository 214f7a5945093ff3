/** A flag a command takes for itself (not a config override). */
export interface CommandOption {
  readonly kind: 'bool' | 'string' | 'list';
  readonly doc: string;
}

export interface ParsedCommandLine {
  readonly options: ReadonlyMap<string, string | true | string[]>;
  /** Config overrides by dotted path (`--gpu.interval=5s` -> gpu.interval). */
  readonly overrides: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
  readonly errors: readonly string[];
}

/**
 * Splits argv into the command's own options and config overrides. Config overrides always contain a dot
 * (section.key), which is how they are told apart from command options; `-` and `_` are interchangeable.
 */
export function parseCommandLine(
  argv: readonly string[],
  commandOptions: Readonly<Record<string, CommandOption>>,
): ParsedCommandLine {
  const options = new Map<string, string | true | string[]>();
  const overrides = new Map<string, string | true>();
  const positionals: string[] = [];
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      if (arg === '-h') options.set('help', true);
      else positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const rawName = arg.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    if (rawName.includes('.')) {
      const path = rawName.replace(/-/g, '_');
      const next = argv[i + 1];
      if (inline !== undefined) overrides.set(path, inline);
      else if (next !== undefined && !next.startsWith('--')) {
        overrides.set(path, next);
        i++;
      } else overrides.set(path, true);
      continue;
    }
    const name = rawName.replace(/_/g, '-');
    const spec = commandOptions[name];
    if (!spec) {
      errors.push(`unknown option --${rawName} (run with --help to list options)`);
      continue;
    }
    if (spec.kind === 'bool') {
      if (inline === undefined || inline === 'true') options.set(name, true);
      else if (inline !== 'false') errors.push(`--${name} takes no value (got "${inline}")`);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) {
      errors.push(`--${name} needs a value`);
      continue;
    }
    if (spec.kind === 'list') {
      const prev = options.get(name);
      options.set(name, [...(Array.isArray(prev) ? prev : []), ...value.split(',').filter(Boolean)]);
    } else options.set(name, value);
  }
  return { options, overrides, positionals, errors };
}
