import { TARGET_NAME_RE } from '../../shared/config/validate-targets.js';
import { GO_DURATION_RE } from '../../shared/config/validate-models.js';
import { ACTION_NAMES } from '../../remediator/actions/action.js';
import { LABEL_RE, RULE_NAME_RE } from '../../remediator/config/validate-rules.js';
import { DURATION_UNIT_MS } from '../../shared/config/parse-duration.js';

/** A JSON Schema node: plain data, written out as JSON. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/**
 * What parseDuration accepts, as an ECMA-262 pattern: seconds as plain digits, or unit-suffixed parts ("1h30m"),
 * around optional blanks (it trims). Built from its unit table, so a new unit reaches the schema too.
 */
export const DURATION_PATTERN = (() => {
  const units = Object.keys(DURATION_UNIT_MS).sort((a, b) => b.length - a.length);
  const num = String.raw`\d+(?:\.\d+)?`;
  return String.raw`^\s*(?:${num}|(?:${num}(?:${units.join('|')}))+)\s*$`;
})();

/** A duration: a non-negative number of seconds, or text parseDuration reads. Bounds (ms) apply to numbers only. */
export function durationSchema(description: string, minMs?: number, maxMs?: number): JsonSchema {
  return {
    description,
    anyOf: [
      {
        type: 'number',
        minimum: minMs !== undefined ? minMs / 1000 : 0,
        ...(maxMs !== undefined ? { maximum: maxMs / 1000 } : {}),
      },
      { type: 'string', pattern: DURATION_PATTERN },
    ],
  };
}

/*
 * Schemas of the lists and maps only the file holds. Their validators are code, not declarations: these follow the
 * shapes they check (keys, types, names, enums); what needs the whole file (cross-references, cron syntax, time
 * zones, URL parsing) stays with loadConfig, which still reports it at start.
 */

const text: JsonSchema = { type: 'string', minLength: 1 };
const texts: JsonSchema = { type: 'array', items: text };
const strict = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length > 0 ? { required } : {}),
});
const labelMap = (description: string): JsonSchema => ({
  description,
  type: 'object',
  propertyNames: { pattern: LABEL_RE.source },
  additionalProperties: { type: 'string' },
});

export function targetsSchema(): JsonSchema {
  return {
    description: 'Ollama servers to watch. Without the list: one target "default" at $OLLAMA_HOST.',
    type: 'array',
    items: strict(
      {
        name: {
          description: 'The `target` label on every Ollama metric.',
          type: 'string',
          pattern: TARGET_NAME_RE.source,
        },
        url: { description: 'Read like OLLAMA_HOST: default scheme http and port 11434.', type: 'string' },
        headers: {
          description: 'Sent with every request, e.g. for an authenticating proxy.',
          type: 'object',
          propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
          additionalProperties: { type: 'string' },
        },
        ca_file: { description: 'Extra CA (PEM) for an https proxy with a private CA.', type: 'string' },
        container: {
          description: 'How to find the container running it: exactly one of compose, swarm, name.',
          ...strict({
            compose: strict({ project: text, service: text }, ['project', 'service']),
            swarm: strict({ service: text, stack: text, stack_file: text }, ['service']),
            name: text,
          }),
          minProperties: 1,
          maxProperties: 1,
        },
      },
      ['name'],
    ),
  };
}

export function modelsSchema(): JsonSchema {
  return {
    description: 'The one models list every component uses (probe, warm-up, init).',
    type: 'array',
    items: {
      anyOf: [
        { description: 'A model name, with every setting at its default.', type: 'string', minLength: 1 },
        strict(
          {
            name: { description: 'As Ollama names it; "llama3" = "llama3:latest".', ...text },
            keep_warm: { description: 'Probe and warm-up keep it loaded.', type: 'boolean', default: false },
            keep_alive: {
              description: 'Seconds (-1 forever) or a Go duration, sent to Ollama verbatim.',
              anyOf: [{ type: 'number' }, { type: 'string', pattern: GO_DURATION_RE.source }],
            },
            min_vram_ratio: { type: 'number', minimum: 0, maximum: 1, default: 0.9 },
            options: { description: 'Runner options, sent verbatim.', type: 'object' },
            targets: { description: 'Target names (default all).', ...texts },
            create: {
              description: 'An /api/create body with at least `from`.',
              type: 'object',
              required: ['from'],
              properties: { from: text },
            },
          },
          ['name'],
        ),
      ],
    },
  };
}

const RULE: JsonSchema = strict(
  {
    name: { type: 'string', pattern: RULE_NAME_RE.source },
    match: labelMap('Alert labels that must be equal.'),
    match_re: labelMap('Alert labels that must match (anchored regexes).'),
    ladder: { type: 'array', items: { enum: [...ACTION_NAMES] }, uniqueItems: true },
    start: { enum: ['auto', ...ACTION_NAMES], default: 'auto' },
    dry_run: { type: 'boolean' },
    quiet: { description: 'The name of a quiet_hours window.', type: 'string' },
    quiet_mode: { enum: ['defer', 'drop'] },
    model_label: { type: 'string', pattern: LABEL_RE.source, default: 'model' },
  },
  ['name'],
);

const FILE_ONLY: Readonly<Record<string, JsonSchema>> = {
  'remediator.rules': { description: 'Which alerts the remediator acts on, and how.', type: 'array', items: RULE },
  'remediator.quiet_hours': {
    description: 'Named windows: {timezone, cron: [...]}.',
    type: 'object',
    additionalProperties: strict({ timezone: text, cron: { anyOf: [text, texts] } }),
  },
  'remediator.schedules': {
    type: 'array',
    items: strict(
      { name: text, cron: text, timezone: text, action: { enum: ['warm_up'] }, targets: texts, models: texts },
      ['name', 'cron'],
    ),
  },
  'remediator.self': strict({ container: text, swarm_service: text, stack: text }),
  'remediator.silence': strict({
    enabled: { type: 'boolean', default: true },
    alertmanager_url: { type: 'string', pattern: '^https?://' },
    duration: durationSchema('How long each silence lasts (at least 1m).', 60_000),
    bearer_token_file: text,
  }),
  'remediator.notify': strict(
    {
      url: { type: 'string', pattern: '^https?://' },
      bearer_token_file: text,
      timeout: durationSchema('Webhook timeout (at least 100ms).', 100),
    },
    ['url'],
  ),
};

/** The schema of a section's file-only key; one no schema describes yet is left open (its validator still runs). */
export function fileOnlySchema(section: string, key: string): JsonSchema {
  return FILE_ONLY[`${section}.${key}`] ?? { description: 'From the file only: see deploy/CONFIGURATION.md.' };
}
