// Reads Prometheus text exposition into samples, so e2e tests can ask for one series by name and labels.

export interface ExpositionSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly text: string;
  readonly samples: readonly ExpositionSample[];
  /** Samples of `name` whose labels include every pair of `labels`. */
  all(name: string, labels?: Readonly<Record<string, string>>): ExpositionSample[];
  /** The value of the one sample matching; undefined when absent; throws when several match (an ambiguous query). */
  get(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
  /** Whether any sample of the family (or of any family with this prefix, for `prefix*`) exists. */
  has(name: string): boolean;
}

export function parseExposition(text: string): Exposition {
  const samples: ExpositionSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    samples.push(parseLine(line));
  }
  const matches = (s: ExpositionSample, name: string, labels: Readonly<Record<string, string>>) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    text,
    samples,
    all: (name, labels = {}) => samples.filter((s) => matches(s, name, labels)),
    get(name, labels = {}) {
      const hits = samples.filter((s) => matches(s, name, labels));
      if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${hits.length} series`);
      return hits[0]?.value;
    },
    has: (name) =>
      name.endsWith('*')
        ? samples.some((s) => s.name.startsWith(name.slice(0, -1)))
        : samples.some((s) => s.name === name),
  };
}

function parseLine(line: string): ExpositionSample {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (brace < 0 || (space >= 0 && space < brace)) {
    const [name, value] = line.split(/\s+/);
    return { name: name!, labels: {}, value: toNumber(value!, line) };
  }
  const name = line.slice(0, brace);
  const labels: Record<string, string> = {};
  let i = brace + 1;
  // Label values may hold escaped quotes, backslashes and newlines; read them character by character.
  while (line[i] !== '}') {
    if (line[i] === ',') i++;
    if (line[i] === '}') break;
    const eq = line.indexOf('=', i);
    const key = line.slice(i, eq);
    i = eq + 2; // skip ="
    let value = '';
    while (line[i] !== '"') {
      if (i >= line.length) throw new Error(`unterminated label value in: ${line}`);
      if (line[i] === '\\') {
        const next = line[i + 1];
        value += next === 'n' ? '\n' : next;
        i += 2;
      } else value += line[i++];
    }
    i++;
    labels[key] = value;
  }
  const rest = line
    .slice(i + 1)
    .trim()
    .split(/\s+/);
  return { name, labels, value: toNumber(rest[0]!, line) };
}

function toNumber(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  const n = Number(text);
  if (Number.isNaN(n) && text !== 'NaN') throw new Error(`bad sample value in: ${line}`);
  return n;
}
