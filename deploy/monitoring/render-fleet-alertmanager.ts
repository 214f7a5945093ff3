import type { FleetNode, MonitoringConfig } from './monitoring-config.js';

/** Alertmanager receiver of the fleet remediator (remediator.node_scope fleet) on a manager. */
export const FLEET_RECEIVER = 'fleet';

/** Alertmanager receiver of one node's remediator: the node ID, which the route matches on, makes it unique. */
export function remediatorReceiver(node: FleetNode): string {
  return `remediator-${node.id}`;
}

/**
 * The fleet's alertmanager.yml: remediable alerts go to the remediator of the node they come from (one route and one
 * receiver per node, matched on the `node` label the fleet scrape config adds) AND to the humans; everything else, and
 * a remediable alert from a node this config does not know, only to the humans. One route per node means each alert
 * reaches exactly one remediator, so nothing is acted on twice; a node that is down fails its own notifications only,
 * which Alertmanager retries, and re-sends on the next group_interval because the failure is not logged as sent.
 * `nodes`: the GPU nodes (fleetNodes() from `docker node inspect`, or the config's example nodes); `managers`: every
 * manager (fleetManagers()), where the fleet remediator runs.
 */
export function renderFleetAlertmanager(
  cfg: MonitoringConfig,
  nodes: readonly FleetNode[],
  managers: readonly FleetNode[],
  source: string,
): string {
  const f = cfg.fleet;
  const duplicate = nodes.find((n, i) => nodes.findIndex((m) => m.id === n.id) !== i);
  if (duplicate) throw new Error(`fleet nodes: node ID ${duplicate.id} is listed twice`);
  const remediable = Object.entries(cfg.alerts)
    .filter(([, a]) => a.remediate)
    .map(([name]) => name);
  const fr = f.fleetRemediator;
  // First, and continuing: the fleet remediator sees every node's alert of one kind and target in one group (no
  // `node` in group_by), so it can count the nodes; each node's own route below still gets its node's alert.
  const fleetRoute = `    - receiver: ${FLEET_RECEIVER}
      group_by: [alertname, ${cfg.targetAlertLabel}]   # every node's alert together: the fleet remediator counts the nodes
      group_interval: 1m             # a second node's alert, or a resolution, reaches it within a minute
      matchers:
        - remediate="true"
        - alertname=~"${fr.alerts.join('|')}"
        - ${cfg.targetAlertLabel}=~".+"
        - node=~".+"                   # it refuses alerts that name no node: it cannot count them
      continue: true                   # on to the node's own remediator and the humans below
`;
  const routes = nodes
    .map(
      (n) => `    - receiver: ${remediatorReceiver(n)}   # ${n.hostname || '(no hostname)'} ${n.address}
      matchers:
        - remediate="true"
        - ${cfg.targetAlertLabel}=~".+"     # the remediator refuses alerts that name no target
        - node="${n.id}"
      continue: true                   # on to the humans below
`,
    )
    .join('');
  const receivers = nodes
    .map(
      (n) => `  - name: ${remediatorReceiver(n)}
    webhook_configs:
      - url: http://${hostPort(n.address, f.remediatorPort)}/webhook
        send_resolved: true          # a resolution cancels healing that has not started yet
        max_alerts: 100              # well below the remediator's max_alerts_per_request (1000)
        http_config:
          authorization:
            type: Bearer
            credentials_file: ${f.secrets.remediatorTokenFile}
`,
    )
    .join('');
  return `# Generated from ${source}: regenerate, do not edit. For your own fleet:
#   docker node inspect $(docker node ls -q) > nodes.json      (on a manager)
#   node dist/deploy/monitoring/render-fleet-alertmanager-main.js nodes.json > alertmanager-fleet.yml
# and redeploy it (deploy/swarm/README.md "Running a fleet"): again whenever a GPU node joins, rejoins or changes address.
#
# Alertmanager (>= 0.25) for a Docker Swarm fleet. The remediable alerts carry remediate="true", ${cfg.targetAlertLabel}="<target>" and
# node="<Swarm node ID>" (${remediable.join(', ')}): each goes to the remediator of its own node AND to the humans. Exactly one node route matches an alert, so no two node remediators ever act on it; a remediable alert
# from a node not listed here (it joined after this file was made) reaches the humans only.
# Those a restart of the Ollama service cures (${fr.alerts.join(', ')}) also go, grouped across nodes, to the
# fleet remediator on a manager (receiver ${FLEET_RECEIVER}, node_scope fleet): it restarts the service on every node
# only for a fault seen on several nodes (or on a service's sole task), never for one node's.
# Checked by test/checks/alertmanager-config.sh (amtool check-config + route tests).
global:
  resolve_timeout: 5m

route:
  receiver: humans
  group_by: [alertname, node, ${cfg.targetAlertLabel}]   # the same target name runs on many nodes: never merge them
  group_wait: 30s
  group_interval: 5m       # also the retry period of a notification that failed (a node that was down)
  repeat_interval: 4h
  routes:
${fleetRoute}${routes}    - receiver: humans

receivers:
  - name: humans
    # Put your e-mail, chat or pager integration here (email_configs, slack_configs, webhook_configs...).
  - name: ${FLEET_RECEIVER}
    # Every manager's fleet remediator gets every notification: each decides alone, and the service's Version.Index
    # with the heal marker lets exactly one restart the fleet. A manager that is down fails its own webhook only.
    webhook_configs:
${managers
  .map(
    (m) => `      - url: http://${hostPort(m.address, fr.port)}/webhook   # ${m.hostname || '(no hostname)'}
        send_resolved: true          # every node's alerts resolving is how it knows a fleet restart worked
        max_alerts: 100
        http_config:
          authorization:
            type: Bearer
            credentials_file: ${f.secrets.remediatorTokenFile}
`,
  )
  .join('')}${receivers}`;
}

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}
