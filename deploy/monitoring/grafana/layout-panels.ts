import type { Panel, PanelSpec } from './panel-types.js';

const GRID_WIDTH = 24;

/**
 * Places panels left to right, wrapping at Grafana's 24 columns; a row always starts a new line. Ids are the
 * position in the list, so they never change unless the panel order does.
 */
export function layoutPanels(specs: readonly PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  return specs.map((spec, i) => {
    const { w, h, ...rest } = spec;
    if (w > GRID_WIDTH) throw new Error(`panel "${spec.title}" is ${w} wide; the grid has ${GRID_WIDTH} columns`);
    if (spec.type === 'row' || x + w > GRID_WIDTH) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    const panel: Panel = { ...rest, gridPos: { h, w, x, y }, id: i + 1 };
    x += w;
    lineHeight = Math.max(lineHeight, h);
    if (spec.type === 'row') {
      y += h;
      x = 0;
      lineHeight = 0;
    }
    return panel;
  });
}
