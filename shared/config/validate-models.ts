import type { ConfigIssues } from './config-issues.js';
import type { ModelConfig } from './types.js';
import { normalizeModelName } from '../ollama/normalize-model-name.js';
import { isRecord, checkKeys } from './yaml-shapes.js';

/** What Ollama's Go server parses as keep_alive text (time.ParseDuration); the config schema reuses it. */
export const GO_DURATION_RE = /^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/** The one `models:` list every component uses, so probe, warm-up and init send identical options. */
export function validateModels(raw: unknown, issues: ConfigIssues, targetNames: readonly string[]): ModelConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    issues.add('models', 'must be a list', 'write `models:` followed by `- name: gpt-oss:20b` items');
    return [];
  }
  const seen = new Set<string>();
  const out: ModelConfig[] = [];
  raw.forEach((item, i) => {
    const path = `models[${i}]`;
    const entry = typeof item === 'string' ? { name: item } : item;
    if (!isRecord(entry)) {
      issues.add(path, 'must be a model name or a mapping with name', 'write `- name: gpt-oss:20b`');
      return;
    }
    checkKeys(
      entry,
      ['name', 'keep_alive', 'keep_warm', 'min_vram_ratio', 'options', 'targets', 'create'],
      path,
      issues,
    );
    let name = '';
    if (typeof entry.name !== 'string' || entry.name.trim() === '') {
      issues.add(`${path}.name`, 'is missing', 'write the model as Ollama names it, e.g. llama3.2:3b');
    } else if (entry.name.includes('@')) {
      // Ollama does not parse a digest in a name (types/model/name.go ParseName, 0.12 and 0.33): "m@sha256:…" would
      // become model "m@sha256" (invalid) with tag "<hex>".
      issues.add(
        `${path}.name`,
        `"${entry.name}" names a digest ("@..."), which Ollama does not accept in a model name`,
        'write the name and tag as /api/tags lists them (e.g. llama3.2:3b); to pin an exact build, copy it to a tag of your own (`ollama cp model@… model:pinned`) and name that',
      );
    } else {
      try {
        name = normalizeModelName(entry.name);
        if (seen.has(name))
          issues.add(
            `${path}.name`,
            `"${name}" is listed twice`,
            'list each model once (llama3 and llama3:latest are the same model)',
          );
        seen.add(name);
      } catch (err) {
        issues.add(
          `${path}.name`,
          (err as Error).message,
          'write a model name such as llama3.2:3b or registry.example/ns/model:tag',
        );
      }
    }
    const keepWarm = entry.keep_warm ?? false;
    if (typeof keepWarm !== 'boolean')
      issues.add(`${path}.keep_warm`, `expected true or false, got ${JSON.stringify(keepWarm)}`, 'use true or false');
    const keepAlive = entry.keep_alive ?? (keepWarm === true ? -1 : '5m');
    if (
      !(typeof keepAlive === 'number' && Number.isFinite(keepAlive)) &&
      !(typeof keepAlive === 'string' && GO_DURATION_RE.test(keepAlive))
    ) {
      issues.add(
        `${path}.keep_alive`,
        `${JSON.stringify(keepAlive)} is not a keep_alive Ollama accepts (a string needs a unit: Ollama answers 400 for "3600")`,
        'write a number of seconds (-1 = forever, 0 = unload at once) or a duration with a unit such as "10m" or "24h"',
      );
    }
    const ratio = entry.min_vram_ratio ?? 0.9;
    if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
      issues.add(
        `${path}.min_vram_ratio`,
        `${JSON.stringify(ratio)} is not a ratio between 0 and 1`,
        'write e.g. 0.9 (90 % of the model in VRAM)',
      );
    }
    const options = entry.options ?? {};
    if (!isRecord(options))
      issues.add(
        `${path}.options`,
        'must be a mapping of Ollama runner options',
        'write e.g. `options: {num_ctx: 8192}`',
      );
    const targets = entry.targets ?? [];
    if (!Array.isArray(targets) || targets.some((t) => typeof t !== 'string')) {
      issues.add(`${path}.targets`, 'must be a list of target names', 'write e.g. `targets: [main]`');
    } else {
      for (const t of targets)
        if (!targetNames.includes(t))
          issues.add(
            `${path}.targets`,
            `"${t}" is not a declared Ollama target`,
            `use one of: ${targetNames.join(', ') || '(none declared)'}`,
          );
    }
    let create: ModelConfig['create'];
    if (entry.create !== undefined) {
      if (!isRecord(entry.create) || typeof entry.create.from !== 'string' || entry.create.from === '') {
        issues.add(
          `${path}.create`,
          'needs at least `from`',
          'write e.g. `create: {from: llama3.2:3b, system: "You are terse."}` (the /api/create body)',
        );
      } else create = { ...entry.create, from: entry.create.from };
    }
    out.push({
      name,
      keep_alive: keepAlive as string | number,
      keep_warm: keepWarm === true,
      min_vram_ratio: typeof ratio === 'number' ? ratio : 0.9,
      options: isRecord(options) ? options : {},
      targets: Array.isArray(targets) ? (targets as string[]) : [],
      ...(create ? { create } : {}),
    });
  });
  return out;
}
