/**
 * The one knob file behind the shipped monitoring content: alert and recording rules
 * (deploy/prometheus/ollama-sentinel.rules.yml), the runbook (deploy/monitoring/runbook.md), the Grafana
 * dashboards (grafana/dashboards/*.json), their Prometheus Operator rendering (deploy/mixin/) and the Swarm fleet's
 * Prometheus and Alertmanager configs (prometheus-fleet.yml, alertmanager-fleet.yml) are all generated from it by `generate.ts`. Change a value here, run the
 * generator, commit both; CI fails when they disagree. Like node-mixin's config.libsonnet, every value says why.
 */
import type { DashboardSettings } from './grafana/build-dashboard.js';

export type Severity = 'critical' | 'warning' | 'info';

export const ALERT_NAMES = [
  'SentinelExporterDown',
  'SentinelExporterAbsent',
  'SentinelCollectorFailing',
  'SentinelCollectorStale',
  'SentinelCollectorStuck',
  'GpuLost',
  'GpuUnreachable',
  'GpuEccUncorrectedErrors',
  'GpuHardwareSlowdown',
  'GpuMemoryNearlyFull',
  'OllamaApiDown',
  'OllamaGpuIdleWhileModelLoaded',
  'OllamaProbeHung',
  'OllamaProbeFailing',
  'OllamaLoadStalled',
  'OllamaRunnerCrashed',
  'OllamaRunnerBusyTooLong',
  'OllamaOutOfMemory',
  'OllamaKeepWarmEvicted',
  'OllamaProbeSlow',
  'OllamaModelMissing',
  'OllamaModelPartialOffload',
  'OllamaOrphanRunners',
  'OllamaModelStuckStopping',
  'OllamaServerBusy',
  'OllamaSlowColdLoad',
  'OllamaFrequentColdLoads',
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

export interface AlertSettings {
  readonly severity: Severity;
  /** Prometheus `for:` duration; "0m" fires on the first evaluation that matches. */
  readonly for: string;
  /** Adds remediate="true": the Alertmanager route to the remediator keys on it. Only for conditions it can heal. */
  readonly remediate: boolean;
}

export interface MonitoringConfig {
  /** Label matchers (without braces) that select the exporter's series; also the `up` series of its scrape job. */
  readonly exporterSelector: string;
  /** Labels that tell exporters apart; every join and aggregation keeps them so several hosts never mix. */
  readonly instanceLabels: readonly string[];
  /** Alert label carrying the Ollama target; must equal the remediator's `target_label` (default "ollama"). */
  readonly targetAlertLabel: string;
  /** runbook_url = this + "#" + lower-cased alert name (GitHub's heading anchors in runbook.md). */
  readonly runbookBaseUrl: string;
  readonly thresholds: {
    /** A collector whose last success is older than this while it still reports success has frozen. */
    readonly collectorStaleSeconds: number;
    /** used / total VRAM above which a GPU counts as nearly full (a model that fits now will not after growth). */
    readonly gpuMemoryNearlyFullRatio: number;
    /** NVML clock event reasons that mean the hardware slows the GPU down (not power capping by policy). */
    readonly gpuSlowdownReasons: readonly string[];
    /** First-token latency of a successful warm probe above which inference counts as slow. */
    readonly probeSlowTtfbSeconds: number;
    /** load_duration above which a cold load counts as slow (large models from slow disks take minutes). */
    readonly slowColdLoadSeconds: number;
    /** Window over which a slow cold load stays visible: the gauge only keeps the latest probe. */
    readonly slowColdLoadWindow: string;
    /** Cold loads of one keep_warm model within `frequentColdLoadWindow` that mean something keeps unloading it. */
    readonly frequentColdLoads: number;
    readonly frequentColdLoadWindow: string;
  };
  readonly alerts: { readonly [K in AlertName]: AlertSettings };
  readonly dashboards: DashboardSettings;
  /** The Kubernetes rendering of the same content (deploy/mixin/, for the Prometheus Operator). */
  readonly kubernetes: {
    /** metadata.name of the PrometheusRule. */
    readonly ruleName: string;
    /** metadata.labels of the PrometheusRule: the Prometheus resource's ruleSelector must match them. */
    readonly ruleLabels: Readonly<Record<string, string>>;
    /** Label (and value) Grafana's dashboard sidecar watches ConfigMaps for. */
    readonly dashboardConfigMapLabel: readonly [name: string, value: string];
  };
  /** The Docker Swarm fleet (deploy/swarm/fleet-stack.yml): its Prometheus and Alertmanager configs. */
  readonly fleet: FleetSettings;
}

/** One GPU node of the fleet, as the Alertmanager routes need it (see fleet-nodes.ts for reading a real fleet). */
export interface FleetNode {
  /** The Swarm node ID: the `node` label Prometheus puts on every series of that node. */
  readonly id: string;
  /** The address its remediator listens on (the node's Swarm address, Status.Addr). */
  readonly address: string;
  /** For the reader only: hostnames can repeat across nodes, so nothing keys on it. */
  readonly hostname: string;
}

export interface FleetSettings {
  /** Swarm node label (and value) that marks GPU nodes: exporters and remediators run there and are scraped. */
  readonly gpuNodeLabel: readonly [name: string, value: string];
  /** Optional node label whose value becomes `node_name` instead of the hostname (hostnames can repeat). */
  readonly nodeNameLabel: string;
  /** The Swarm manager's Docker API that Prometheus lists the nodes from (dockerswarm_sd_configs). */
  readonly dockerApi: {
    /** unix:///var/run/docker.sock (Prometheus on a manager) or https://manager:2376 (with `tls`). */
    readonly host: string;
    /** Client certificate for a TLS-protected Docker API (dockerd --tlsverify); null for the socket. */
    readonly tls: { readonly caFile: string; readonly certFile: string; readonly keyFile: string } | null;
    readonly refreshInterval: string;
  };
  readonly exporterPort: number;
  readonly remediatorPort: number;
  /** Alertmanager's port on the manager that runs it (host network): Prometheus sends to every manager's. */
  readonly alertmanagerPort: number;
  /** Paths of the Swarm secrets inside the Prometheus and Alertmanager containers. */
  readonly secrets: {
    readonly exporterPasswordFile: string;
    readonly remediatorTokenFile: string;
  };
  /** basic_auth username Prometheus scrapes the exporters with (exporter.basic_auth_username). */
  readonly exporterUsername: string;
  /** The nodes the committed deploy/alertmanager/alertmanager-fleet.yml routes to: an example of three. */
  readonly exampleNodes: readonly FleetNode[];
  /**
   * The fleet remediator (remediator.node_scope fleet, deploy/swarm/fleet-manager-sentinel.yaml) on a manager: its
   * webhook as Alertmanager reaches it, and the alerts sent to it, grouped across nodes: those a restart of the
   * Ollama service can cure (its rules name no other), so nothing else is journaled there only to be refused.
   */
  readonly fleetRemediator: { readonly port: number; readonly alerts: readonly AlertName[] };
  /** The managers the committed alertmanager-fleet.yml sends the fleet remediator's alerts to: an example of three. */
  readonly exampleManagers: readonly FleetNode[];
}

export const monitoringConfig: MonitoringConfig = {
  exporterSelector: 'job="ollama-sentinel"',
  // `node` (the Swarm node ID the fleet's scrape config adds) survives every aggregation, so a fleet's alerts say
  // where they come from and Alertmanager routes them to that node's remediator; absent on a single host.
  instanceLabels: ['instance', 'job', 'node'],
  targetAlertLabel: 'ollama',
  runbookBaseUrl: 'https://github.com/ollama-sentinel/ollama-sentinel/blob/main/deploy/monitoring/runbook.md',
  thresholds: {
    // The probe collector may legitimately run 6 min (5 min load deadline + first token); 15 min is clearly frozen.
    collectorStaleSeconds: 900,
    gpuMemoryNearlyFullRatio: 0.95,
    gpuSlowdownReasons: ['hw_slowdown', 'hw_thermal_slowdown', 'hw_power_brake_slowdown'],
    probeSlowTtfbSeconds: 10,
    slowColdLoadSeconds: 120,
    slowColdLoadWindow: '30m',
    frequentColdLoads: 3,
    frequentColdLoadWindow: '1h',
  },
  alerts: {
    SentinelExporterDown: { severity: 'critical', for: '5m', remediate: false },
    // Longer than Down: right after a config change Prometheus may need a few scrapes to discover the target.
    SentinelExporterAbsent: { severity: 'warning', for: '15m', remediate: false },
    SentinelCollectorFailing: { severity: 'warning', for: '10m', remediate: false },
    SentinelCollectorStale: { severity: 'warning', for: '5m', remediate: false },
    // A run that outlived its kill is nvidia-smi stuck in the kernel: the driver is wedged.
    SentinelCollectorStuck: { severity: 'critical', for: '1m', remediate: false },
    // Host-level faults: restarting containers cannot fix them, so never remediate.
    GpuLost: { severity: 'critical', for: '1m', remediate: false },
    GpuUnreachable: { severity: 'critical', for: '5m', remediate: false },
    GpuEccUncorrectedErrors: { severity: 'critical', for: '0m', remediate: false },
    GpuHardwareSlowdown: { severity: 'warning', for: '5m', remediate: false },
    GpuMemoryNearlyFull: { severity: 'warning', for: '15m', remediate: false },
    OllamaApiDown: { severity: 'critical', for: '2m', remediate: true },
    // The diagnosis already excludes loads, CPU-by-design models and one-sample disagreements between sources; the
    // minutes are for a GPU that comes back by itself (never raise it to hide a load: fix the diagnosis instead).
    OllamaGpuIdleWhileModelLoaded: { severity: 'critical', for: '5m', remediate: true },
    // The diagnosis waits itself (several flat samples, or probes in a row); no extra wait.
    OllamaProbeHung: { severity: 'critical', for: '0m', remediate: true },
    OllamaProbeFailing: { severity: 'warning', for: '0m', remediate: true },
    // The target's load-stall limit is the wait: a load with no progress at all for that long is dead.
    OllamaLoadStalled: { severity: 'critical', for: '0m', remediate: true },
    // One minute: a runner that exits as its model unloads may be gone a moment before /api/ps drops the model.
    OllamaRunnerCrashed: { severity: 'warning', for: '1m', remediate: true },
    // Busy and spinning cannot be told apart from outside: humans decide; the diagnosis's bounded wait is the delay.
    OllamaRunnerBusyTooLong: { severity: 'warning', for: '0m', remediate: false },
    // More VRAM or a smaller context is needed: a restart would only repeat the failure.
    OllamaOutOfMemory: { severity: 'warning', for: '0m', remediate: false },
    // Two keep_warm models that do not fit together: capacity, for humans; the probe already stopped the ping-pong.
    OllamaKeepWarmEvicted: { severity: 'warning', for: '0m', remediate: false },
    OllamaProbeSlow: { severity: 'warning', for: '10m', remediate: false },
    // Long enough for `init` to finish pulling on first start before the remediator pulls too.
    OllamaModelMissing: { severity: 'critical', for: '10m', remediate: true },
    // Too large a context or other VRAM users: the operator decides, restarts do not help.
    OllamaModelPartialOffload: { severity: 'warning', for: '10m', remediate: false },
    OllamaOrphanRunners: { severity: 'warning', for: '5m', remediate: true },
    OllamaModelStuckStopping: { severity: 'warning', for: '5m', remediate: true },
    // Overloaded, not broken: restarting would drop the queue.
    OllamaServerBusy: { severity: 'warning', for: '10m', remediate: false },
    OllamaSlowColdLoad: { severity: 'info', for: '0m', remediate: false },
    OllamaFrequentColdLoads: { severity: 'warning', for: '0m', remediate: false },
  },
  dashboards: {
    uidPrefix: 'ollama-sentinel',
    tags: ['ollama', 'ollama-sentinel', 'gpu'],
    refresh: '30s',
    timeFrom: 'now-6h',
  },
  kubernetes: {
    ruleName: 'ollama-sentinel',
    // prometheus/role are what kube-prometheus's own rules carry (older releases select on them); a
    // kube-prometheus-stack Prometheus selects `release: <its Helm release>` instead: add that label here.
    ruleLabels: {
      'app.kubernetes.io/name': 'ollama-sentinel',
      'app.kubernetes.io/part-of': 'ollama-sentinel',
      prometheus: 'k8s',
      role: 'alert-rules',
    },
    // kube-prometheus-stack's Grafana sidecar default.
    dashboardConfigMapLabel: ['grafana_dashboard', '1'],
  },
  fleet: {
    gpuNodeLabel: ['ollama-sentinel.gpu', 'true'],
    nodeNameLabel: 'ollama-sentinel.name',
    // Prometheus runs on a manager (fleet-stack.yml) and reads its Docker socket: no TLS to set up. From elsewhere:
    // host https://<manager>:2376 with a client certificate (tls), as for `docker --tlsverify`.
    dockerApi: { host: 'unix:///var/run/docker.sock', tls: null, refreshInterval: '30s' },
    exporterPort: 9778,
    remediatorPort: 9779,
    alertmanagerPort: 9093,
    secrets: {
      exporterPasswordFile: '/run/secrets/sentinel-exporter-password',
      remediatorTokenFile: '/run/secrets/sentinel-remediator-token',
    },
    exporterUsername: 'prometheus',
    exampleNodes: [
      { id: 'q4d1v0m7a1xk3p9e2n5r8t6y0', address: '10.0.1.11', hostname: 'gpu-a' },
      { id: 'h2k8s5w1c7b3n9f4j6l0z2x8v', address: '10.0.1.12', hostname: 'gpu-b' },
      { id: 'm9t3r6e0y4u8i2o5p1a7s3d9f', address: '10.0.1.13', hostname: 'gpu-b' },
    ],
    fleetRemediator: {
      // Global on the managers, host network (fleet-stack.yml): Alertmanager sends each fleet notification to every
      // manager's :9780. Each fleet remediator decides alone; the service's Version.Index and the heal marker it writes
      // with the update let exactly one of them restart the fleet, and a manager that is down loses nothing.
      port: 9780,
      // What no node remediator cures (fleet-sentinel.yaml has no rule for them): an API that is down on its node, a
      // load that makes no progress. CPU fallback and a hung runner are cured on the node (restart of the node's task,
      // reload); sending them here too would restart those nodes twice.
      alerts: ['OllamaApiDown', 'OllamaLoadStalled'],
    },
    exampleManagers: [
      { id: 'a1m2n3b4v5c6x7z8l9k0j1h2g', address: '10.0.0.1', hostname: 'manager-1' },
      { id: 'b2n3m4c5v6b7n8m9l0k1j2h3f', address: '10.0.0.2', hostname: 'manager-2' },
      { id: 'c3b4n5v6c7x8z9l0k1j2h3g4d', address: '10.0.0.3', hostname: 'manager-3' },
    ],
  },
};
