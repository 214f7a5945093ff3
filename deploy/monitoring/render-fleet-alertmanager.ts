import type { FleetNode, MonitoringConfig } from './monitoring-config.js';

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
 * `nodes`: the GPU nodes (fleetNodes() from `docker node inspect`, or the config's example nodes).
 */
export function renderFleetAlertmanager(cfg: MonitoringConfig, nodes: readonly FleetNode[], source: string): string {
  const f = cfg.fleet;
  const duplicate = nodes.find((n, i) => nodes.findIndex((m) => m.id === n.id) !== i);
  if (duplicate) throw new Error(`fleet nodes: node ID ${duplicate.id} is listed twice`);
  const remediable = Object.entries(cfg.alerts)
    .filter(([, a]) => a.remediate)
    .map(([name]) => name);
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
      - url: http://${n.address.includes(':') ? `[${n.address}]` : n.address}:${f.remediatorPort}/webhook
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
# node="<Swarm node ID>" (${remediable.join(', ')}): each goes to the remediator of its own node AND to the humans. Exactly one node route matches an alert, so no two remediators ever act on it; a remediable alert
# from a node not listed here (it joined after this file was made) reaches the humans only.
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
${routes}    - receiver: humans

receivers:
  - name: humans
    # Put your e-mail, chat or pager integration here (email_configs, slack_configs, webhook_configs...).
${receivers}`;
}
