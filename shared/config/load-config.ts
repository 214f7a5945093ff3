import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError, ConfigIssues } from './config-issues.js';
import type { ConfigSection } from './config-section.js';
import { envNameFor, flagNameFor, parseScalar, storedKey } from './scalar-field.js';
import { sharedSections } from './shared-sections.js';
import type { SharedConfig } from './types.js';
import { validateModels } from './validate-models.js';
import { validateTargets } from './validate-targets.js';
import { isRecord, checkKeys } from './yaml-shapes.js';

export interface LoadConfigInput {
  /** Path of the YAML file; undefined = built-in defaults only. */
  readonly file?: string;
  /** Config overrides from the command line, by dotted path (`gpu.interval` -> "5s"). */
  readonly flags: ReadonlyMap<string, string | true>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The command's own sections, validated with the shared ones. */
  readonly sections: readonly ConfigSection[];
  /** Top-level keys of other commands: allowed in the shared file but not validated here. */
  readonly otherSectionKeys?: readonly string[];
  readonly readFile?: (path: string) => string;
}

export type LoadedConfig = SharedConfig & Readonly<Record<string, unknown>>;

/**
 * Reads defaults < YAML file < environment < flags, validates the shared sections and the command's own, reports
 * every problem at once (ConfigError), and returns a deep-frozen object.
 */
export function loadConfig(input: LoadConfigInput): LoadedConfig {
  const issues = new ConfigIssues();
  const source = input.file ?? 'built-in defaults';
  let doc: Record<string, unknown> = {};
  if (input.file !== undefined) {
    let text: string | undefined;
    try {
      text = (input.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(input.file);
    } catch (err) {
      issues.add(
        '--config',
        `cannot read ${input.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        'pass the path of a readable YAML file (see deploy/config.example.yaml)',
      );
    }
    if (text !== undefined) {
      try {
        const parsed: unknown = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
        if (parsed === null || parsed === undefined) doc = {};
        else if (isRecord(parsed)) doc = parsed;
        else
          issues.add(
            '(document)',
            'the file is not a YAML mapping',
            'start the file with top-level keys such as `ollama:` and `models:`',
          );
      } catch (err) {
        const e = err as YAMLParseError;
        issues.add(
          e.linePos ? `line ${e.linePos[0].line}` : '(document)',
          `YAML syntax error: ${e.message.split('\n')[0]}`,
          'fix the YAML syntax at that line',
        );
      }
    }
  }

  const sections = [...sharedSections, ...input.sections];
  // Once each: several commands share a section (remediator and explain), and the command's own are among the others.
  const topKeys = new Set(['ollama', 'models', ...sections.map((s) => s.key), ...(input.otherSectionKeys ?? [])]);
  checkKeys(doc, [...topKeys], '', issues);

  const knownFlags = new Map<string, { section: ConfigSection; key: string }>();
  for (const section of sections)
    for (const key of Object.keys(section.scalars)) knownFlags.set(`${section.key}.${key}`, { section, key });
  for (const path of input.flags.keys()) {
    if (!knownFlags.has(path))
      issues.add(flagNameFor(path), 'unknown flag', 'run with --help to list the flags of this command');
  }

  const targets = validateTargets(doc.ollama, issues, input.env);
  const targetNames = targets.map((t) => t.name);
  const models = validateModels(doc.models, issues, targetNames);
  const ctx = { targetNames, modelNames: models.map((m) => m.name) };

  const out: Record<string, unknown> = { ollama: targets, models };
  for (const section of sections) {
    const raw = doc[section.key] ?? {};
    if (!isRecord(raw)) {
      issues.add(section.key, 'must be a mapping', `write \`${section.key}:\` followed by indented keys`);
      continue;
    }
    checkKeys(raw, [...Object.keys(section.scalars), ...(section.complexKeys ?? [])], section.key, issues);
    const values: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(section.scalars)) {
      const path = `${section.key}.${key}`;
      const envName = envNameFor(path);
      const flag = input.flags.get(path);
      const fromEnv = input.env[envName];
      let value: unknown;
      let origin: string;
      if (flag !== undefined) [value, origin] = [flag === true ? 'true' : flag, flagNameFor(path)];
      else if (fromEnv !== undefined && fromEnv !== '') [value, origin] = [fromEnv, envName];
      else if (raw[key] !== undefined && raw[key] !== null) [value, origin] = [raw[key], path];
      else if (field.default !== undefined) [value, origin] = [field.default, `${path} (default)`];
      else {
        if (!field.optional)
          issues.add(path, 'is required', `set ${path} in the file, ${envName} or ${flagNameFor(path)}`);
        continue;
      }
      const result = parseScalar(value, field);
      if (result.ok) values[storedKey(key, field)] = result.value;
      else issues.add(origin, result.problem, result.fix);
    }
    section.check?.(values, issues);
    if (section.complex) Object.assign(values, section.complex(raw, issues, ctx, values));
    out[section.key] = values;
  }

  if (!issues.empty) throw new ConfigError(issues.list, source);
  return deepFreeze(out) as LoadedConfig;
}

/** Freezes an object graph so no component can change configuration after validation. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
