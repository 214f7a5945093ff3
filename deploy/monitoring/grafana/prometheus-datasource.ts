import type { DatasourceRef } from './panel-types.js';

/**
 * Every panel and query points at the `$datasource` variable, never at a fixed uid or `${DS_PROMETHEUS}` input:
 * file provisioning does not resolve inputs ("Datasource ${DS_PROMETHEUS} was not found", grafana#10786).
 */
export const PROMETHEUS_DATASOURCE: DatasourceRef = { type: 'prometheus', uid: '${datasource}' };
