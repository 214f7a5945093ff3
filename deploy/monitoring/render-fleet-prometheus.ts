import type { FleetSettings, MonitoringConfig } from './monitoring-config.js';

/** A Swarm node label as dockerswarm_sd_configs names its meta label (every invalid character becomes `_`). */
export function nodeLabelMeta(label: string): string {
  return `__meta_dockerswarm_node_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/**
 * deploy/prometheus/prometheus-fleet.yml: Prometheus for a Docker Swarm fleet (deploy/swarm/fleet-stack.yml). It finds
 * every GPU node's exporter and remediator itself from a manager's node list: the `tasks` role yields no target for a
 * host-network task without published ports, so the `nodes` role with the known ports it is.
 */
export function renderFleetPrometheus(cfg: MonitoringConfig): string {
  const f = cfg.fleet;
  const [gpuLabel, gpuValue] = f.gpuNodeLabel;
  const job = /^job="([^"]+)"$/.exec(cfg.exporterSelector)?.[1];
  if (!job)
    throw new Error(
      `fleet: exporterSelector ${cfg.exporterSelector} is not job="<name>": the fleet scrape config names its job from it`,
    );
  if (f.dockerApi.tls && !f.dockerApi.host.startsWith('https://'))
    throw new Error(
      `fleet.dockerApi: tls is set but host ${f.dockerApi.host} is not https://: Prometheus applies tls_config only to http(s) hosts`,
    );
  return `# Generated from deploy/monitoring/monitoring-config.ts (fleet) by deploy/monitoring/generate.ts: change the
# config and regenerate (node dist/deploy/monitoring/generate.js) instead of editing this file.
#
# Prometheus for a Docker Swarm fleet (deploy/swarm/fleet-stack.yml, deploy/swarm/README.md "Running a fleet"). It lists
# the Swarm nodes from a manager's Docker API and scrapes the exporter (:${f.exporterPort}) and remediator (:${f.remediatorPort}) of every
# node labelled ${gpuLabel}=${gpuValue} that is not drained. Every series gets
#   node       the Swarm node ID: unique and stable while the node is in the Swarm (hostnames can repeat)
#   node_name  the node label ${f.nodeNameLabel} when set, else the hostname: for people, never for joins
# The rules keep \`node\` in every aggregation (instanceLabels), and Alertmanager routes remediable alerts on it to that
# node's remediator (deploy/alertmanager/alertmanager-fleet.yml). \`promtool check config\` validates this file.
global:
  scrape_interval: 15s     # the exporter collects every 15 s in the background; scraping faster adds nothing
  scrape_timeout: 10s
  evaluation_interval: 15s

rule_files:
  - ollama-sentinel.rules.yml

alerting:
  # Alertmanager runs as one task on some manager, on its host network (fleet-stack.yml): Prometheus finds it wherever
  # Swarm put it, also after a manager fail-over, by sending to every ready manager's :${f.alertmanagerPort}. The managers
  # not running it refuse the connection; Prometheus counts that per address in prometheus_notifications_errors_total
  # and goes on (each Alertmanager is sent to independently).
  alertmanagers:
    -${swarmSd(f, f.alertmanagerPort, 6).slice(5)}
      relabel_configs:
        - source_labels: [__meta_dockerswarm_node_role, __meta_dockerswarm_node_status]
          regex: manager;ready
          action: keep
        # A manager's address as Swarm knows it (Status.Addr may read 0.0.0.0 on a manager; the manager address
        # never does).
        - source_labels: [__meta_dockerswarm_node_manager_address]
          regex: '(.+):[0-9]+'
          target_label: __address__
          replacement: '\${1}:${f.alertmanagerPort}'

scrape_configs:
  # The rules select ${cfg.exporterSelector} (exporterSelector): keep the job name.
  - job_name: ${job}
${swarmSd(f, f.exporterPort)}
    basic_auth:                    # the exporters listen on the node's address: never without auth
      username: ${f.exporterUsername}
      password_file: ${f.secrets.exporterPasswordFile}
${relabel(f, f.exporterPort)}
  - job_name: ${job}-remediator
${swarmSd(f, f.remediatorPort)}
    authorization:                 # the same bearer token Alertmanager sends (remediator.bearer_token_file)
      type: Bearer
      credentials_file: ${f.secrets.remediatorTokenFile}
${relabel(f, f.remediatorPort)}`;
}

/** `indent` is the key's own indentation: 4 in a scrape config, 6 in an alertmanagers entry. */
function swarmSd(f: FleetSettings, port: number, indent = 4): string {
  const tls = f.dockerApi.tls
    ? `
        tls_config:
          ca_file: ${f.dockerApi.tls.caFile}
          cert_file: ${f.dockerApi.tls.certFile}
          key_file: ${f.dockerApi.tls.keyFile}`
    : '';
  const text = `    dockerswarm_sd_configs:
      - host: ${f.dockerApi.host}   # a manager: only managers answer GET /nodes
        role: nodes
        port: ${port}
        refresh_interval: ${f.dockerApi.refreshInterval}${tls}`;
  return text.replace(/^ {4}/gm, ' '.repeat(indent));
}

function relabel(f: FleetSettings, port: number): string {
  const [gpuLabel, gpuValue] = f.gpuNodeLabel;
  return `    relabel_configs:
      # GPU nodes only: docker node update --label-add ${gpuLabel}=${gpuValue} <node>
      - source_labels: [${nodeLabelMeta(gpuLabel)}]
        regex: '${gpuValue.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'
        action: keep
      # A drained node runs no tasks on purpose (maintenance): not a target. A node Swarm sees down stays one: its
      # failed scrapes fire SentinelExporterDown with its node label, the only alert a dead GPU node can raise.
      # \`docker node rm\` it once it is gone for good.
      - source_labels: [__meta_dockerswarm_node_availability]
        regex: drain
        action: drop
      # Some managers report Status.Addr 0.0.0.0 (the address they listen on): use the host of their manager address.
      - source_labels: [__meta_dockerswarm_node_address, __meta_dockerswarm_node_manager_address]
        regex: '0\\.0\\.0\\.0;(.+):[0-9]+'
        target_label: __address__
        replacement: '\${1}:${port}'
      - source_labels: [__meta_dockerswarm_node_id]
        target_label: node
      - source_labels: [__meta_dockerswarm_node_hostname]
        target_label: node_name
      - source_labels: [${nodeLabelMeta(f.nodeNameLabel)}]
        regex: '(.+)'
        target_label: node_name
`;
}
