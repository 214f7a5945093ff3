import type { ValueMapping } from './panel-types.js';

/** Grafana's value-to-text mapping, so 0/1 state series read as words with colours. */
export function valueMappings(mappings: readonly ValueMapping[]): unknown[] {
  if (mappings.length === 0) return [];
  return [
    {
      options: Object.fromEntries(mappings.map((m, i) => [String(m.value), { color: m.color, index: i, text: m.text }])),
      type: 'value',
    },
  ];
}
