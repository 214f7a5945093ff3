import type { PanelSpec } from './panel-types.js';

/** A full-width, expanded section header. */
export function rowPanel(title: string): PanelSpec {
  return { type: 'row', title, collapsed: false, panels: [], w: 24, h: 1 };
}
