import { readFileSync } from 'node:fs';
import { fleetManagers, fleetNodes } from './fleet-nodes.js';
import { monitoringConfig } from './monitoring-config.js';
import { renderFleetAlertmanager } from './render-fleet-alertmanager.js';

const USAGE =
  'usage: render-fleet-alertmanager-main.js NODES.json   (NODES.json: `docker node inspect $(docker node ls -q)` on a manager; - reads stdin)';

/**
 * `node dist/deploy/monitoring/render-fleet-alertmanager-main.js NODES.json > alertmanager-fleet.yml`: the fleet
 * Alertmanager config for the GPU nodes of a real Swarm. Exits 1 on a node list it cannot use, 2 on bad arguments.
 */
function main(argv: readonly string[]): number {
  if (argv.length !== 1 || (argv[0]!.startsWith('-') && argv[0] !== '-')) {
    process.stderr.write(
      `render-fleet-alertmanager: ${argv.length === 0 ? 'no node list given' : `unexpected ${argv.join(' ')}`}\n${USAGE}\n`,
    );
    return 2;
  }
  const file = argv[0]!;
  try {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
    } catch (e) {
      throw new Error(`${file === '-' ? 'stdin' : file} is unreadable or not JSON (${(e as Error).message})`, {
        cause: e,
      });
    }
    const nodes = fleetNodes(json, monitoringConfig.fleet);
    const managers = fleetManagers(json);
    process.stdout.write(
      renderFleetAlertmanager(monitoringConfig, nodes, managers, `the node list ${file === '-' ? '(stdin)' : file}`),
    );
    return 0;
  } catch (e) {
    process.stderr.write(`render-fleet-alertmanager: ${(e as Error).message}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
