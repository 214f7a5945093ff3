import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { layOut, sortKeys } from '../../../../../deploy/monitoring/grafana/build-dashboard.js';
import { rowPanel, textPanel, type PanelSpec } from '../../../../../deploy/monitoring/grafana/panels.js';

const box = (title: string, w: number, h: number): PanelSpec => textPanel({ title, content: title, w, h });
const laidOut = (specs: PanelSpec[]) => {
  const builder = new DashboardBuilder('t');
  layOut(builder, specs);
  return builder.build().panels ?? [];
};

describe('layOut', () => {
  it('fills lines left to right, wraps below the tallest panel, starts rows on a new line and numbers in order', () => {
    const laid = laidOut([
      rowPanel('A'),
      box('a', 12, 8),
      box('b', 6, 4),
      box('c', 6, 5),
      box('d', 12, 5),
      rowPanel('B'),
      box('e', 24, 3),
    ]);
    assert.deepEqual(
      laid.map((p) => [p.title, p.id, p.gridPos?.x, p.gridPos?.y, p.gridPos?.w, p.gridPos?.h]),
      [
        ['A', 1, 0, 0, 24, 1],
        ['a', 2, 0, 1, 12, 8],
        ['b', 3, 12, 1, 6, 4],
        ['c', 4, 18, 1, 6, 5],
        ['d', 5, 0, 9, 12, 5],
        ['B', 6, 0, 14, 24, 1],
        ['e', 7, 0, 15, 24, 3],
      ],
    );
  });

  it('refuses a panel wider than the grid', () => {
    assert.throws(() => laidOut([box('wide', 25, 4)]), /"wide" is 25 wide; the grid has 24 columns/);
  });

  it('refuses a panel that would overflow its line, which the SDK would place off the grid', () => {
    assert.throws(() => laidOut([box('a', 12, 4), box('b', 18, 4)]), /"b" \(18 wide\) does not fit after 12 columns/);
  });
});

describe('sortKeys', () => {
  it('orders keys at every depth, keeps array order and drops undefined values', () => {
    const out = sortKeys({ b: 1, a: { d: [{ z: 1, y: 2 }, 3], c: undefined, b: null } });
    assert.equal(JSON.stringify(out), '{"a":{"b":null,"d":[{"y":2,"z":1},3]},"b":1}');
  });
});
