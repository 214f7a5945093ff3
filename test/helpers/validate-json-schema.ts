/**
 * A validator for the subset of JSON Schema (draft-07) that deploy/config.schema.json uses, so tests can check the
 * schema against real files without a schema library. It refuses any keyword it does not know, so the schema cannot
 * grow a keyword these tests would silently skip. Returns one "path: problem" line per error.
 */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default']);
const KNOWN = new Set([
  ...ANNOTATIONS,
  'type',
  'enum',
  'minimum',
  'maximum',
  'minLength',
  'pattern',
  'properties',
  'additionalProperties',
  'required',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'items',
  'uniqueItems',
  'anyOf',
]);

type Schema = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function validateJsonSchema(schema: Schema | boolean, value: unknown, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: not allowed`];
  const unknown = Object.keys(schema).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new Error(`${path}: the test validator does not know ${unknown.join(', ')}`);
  const errors: string[] = [];
  const err = (problem: string) => errors.push(`${path}: ${problem}`);
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const types = ([] as unknown[]).concat(schema.type);
    if (!types.some((x) => x === t || (x === 'number' && t === 'integer')))
      return [`${path}: expected ${types.join(' or ')}, got ${t}`];
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) err(`${JSON.stringify(value)} is not in the enum`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) err(`${value} < minimum ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) err(`${value} > maximum ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) err('too short');
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value))
      err(`${JSON.stringify(value)} does not match ${schema.pattern}`);
  }
  if (t === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) err(`missing ${r}`);
    if (typeof schema.minProperties === 'number' && keys.length < schema.minProperties) err('too few keys');
    if (typeof schema.maxProperties === 'number' && keys.length > schema.maxProperties) err('too many keys');
    for (const k of keys) {
      if (schema.propertyNames) errors.push(...validateJsonSchema(schema.propertyNames as Schema, k, `${path}.${k}`));
      if (k in props) errors.push(...validateJsonSchema(props[k]!, obj[k], `${path}.${k}`));
      else if (schema.additionalProperties !== undefined)
        errors.push(...validateJsonSchema(schema.additionalProperties as Schema, obj[k], `${path}.${k}`));
    }
  }
  if (t === 'array') {
    const arr = value as unknown[];
    if (schema.items)
      arr.forEach((v, i) => errors.push(...validateJsonSchema(schema.items as Schema, v, `${path}[${i}]`)));
    if (schema.uniqueItems && new Set(arr.map((v) => JSON.stringify(v))).size !== arr.length) err('duplicate items');
  }
  if (schema.anyOf) {
    const tries = (schema.anyOf as Schema[]).map((s) => validateJsonSchema(s, value, path));
    if (!tries.some((e) => e.length === 0)) err(`matches none of anyOf (${tries.map((e) => e[0]).join('; ')})`);
  }
  return errors;
}
