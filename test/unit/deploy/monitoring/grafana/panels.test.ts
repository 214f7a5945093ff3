import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layoutPanels, rowPanel, type PanelSpec } from '../../../../../deploy/monitoring/grafana/panels.js';

const box = (title: string, w: number, h: number): PanelSpec => ({ type: 'timeseries', title, w, h });

describe('layoutPanels', () => {
  it('fills lines left to right, wraps at 24 columns below the tallest panel, and starts rows on a new line', () => {
    const laid = layoutPanels([
      rowPanel('A'),
      box('a', 12, 8),
      box('b', 6, 4),
      box('c', 12, 5),
      rowPanel('B'),
      box('d', 24, 3),
    ]);
    assert.deepEqual(
      laid.map((p) => [p.title, p.id, p.gridPos.x, p.gridPos.y, p.gridPos.w, p.gridPos.h]),
      [
        ['A', 1, 0, 0, 24, 1],
        ['a', 2, 0, 1, 12, 8],
        ['b', 3, 12, 1, 6, 4],
        ['c', 4, 0, 9, 12, 5],
        ['B', 5, 0, 14, 24, 1],
        ['d', 6, 0, 15, 24, 3],
      ],
    );
  });

  it('refuses a panel wider than the grid', () => {
    assert.throws(() => layoutPanels([box('wide', 25, 4)]), /25 wide/);
  });
});
