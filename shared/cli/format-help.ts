import type { ConfigSection } from '../config/config-section.js';
import { sharedSections } from '../config/shared-sections.js';
import { envNameFor, flagNameFor } from '../config/scalar-field.js';
import type { CommandDef } from './command-def.js';

/** --help text of one command, generated from its config sections so flags and env names never drift. */
export function formatHelp(cmd: CommandDef): string {
  const lines = [
    `Usage: ollama-sentinel ${cmd.name} [options] [--section.key=value ...]`,
    '',
    cmd.summary,
    '',
    cmd.description.trim(),
    '',
    'Options:',
    '  --config FILE                YAML configuration (env SENTINEL_CONFIG); without it, built-in defaults',
    '  --help, -h                   this text',
    '  --version                    print the version and exit',
  ];
  for (const [name, opt] of Object.entries(cmd.options)) {
    const arg = opt.kind === 'bool' ? '' : opt.kind === 'list' ? ' A,B' : ' VALUE';
    lines.push(`  ${`--${name}${arg}`.padEnd(28)} ${opt.doc}`);
  }
  for (const [alias, path] of Object.entries(cmd.flagAliases ?? {}))
    lines.push(`  ${`--${alias} VALUE`.padEnd(28)} same as ${flagNameFor(path)}`);
  lines.push('', 'Configuration overrides (flag > environment > file > default):');
  for (const section of [...sharedSections, ...cmd.sections]) lines.push(...formatSection(section));
  lines.push('', 'Lists (ollama:, models:, rules...) come from the file only; see deploy/config.example.yaml.');
  return lines.join('\n') + '\n';
}

function formatSection(section: ConfigSection): string[] {
  const out = [`  ${section.key}: ${section.doc}`];
  for (const [key, field] of Object.entries(section.scalars)) {
    const path = `${section.key}.${key}`;
    const def =
      field.default !== undefined
        ? ` (default ${JSON.stringify(field.default)})`
        : field.optional
          ? ' (optional)'
          : ' (required)';
    out.push(
      `    ${flagNameFor(path)}=${field.kind.toUpperCase()}  env ${envNameFor(path)}${def}`,
      `        ${field.doc}`,
    );
  }
  return out;
}
