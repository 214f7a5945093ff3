import type { BuildInfo } from '../shared/version.js';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TlsStatus } from '../shared/http/start-http-server.js';

/**
 * The remediator's own registry (never the global one). Every label is bounded: targets and actions come from the
 * configuration and fixed lists, reasons and results from fixed sets in the code.
 */
export class RemediatorMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'sentinel_remediator_webhook_requests_total',
    help: 'ollama-sentinel remediator: webhook requests by HTTP status code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly alertsReceived = new Counter({
    name: 'sentinel_remediator_alerts_received_total',
    help: 'ollama-sentinel remediator: alerts in accepted webhooks, by alert status (duplicates included).',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'sentinel_remediator_alerts_duplicate_total',
    help: 'ollama-sentinel remediator: alerts already recorded (re-sends), answered from memory.',
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'sentinel_remediator_alerts_refused_total',
    help: 'ollama-sentinel remediator: alerts recorded but not acted on, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly actions = new Counter({
    name: 'sentinel_remediator_actions_total',
    help: 'ollama-sentinel remediator: healing steps by target, action and result (done, skipped, failed, dry_run, interrupted).',
    labelNames: ['target', 'action', 'result'],
    registers: [this.registry],
  });
  readonly skips = new Counter({
    name: 'sentinel_remediator_skips_total',
    help: 'ollama-sentinel remediator: decisions not to act, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'sentinel_remediator_actions_in_flight',
    help: 'ollama-sentinel remediator: healing steps running now.',
    registers: [this.registry],
  });
  readonly breakerOpen = new Gauge({
    name: 'sentinel_remediator_breaker_open',
    help: 'ollama-sentinel remediator: 1 while the circuit breaker is open (no actions until an operator resets it).',
    registers: [this.registry],
  });
  readonly stepDuration = new Histogram({
    name: 'sentinel_remediator_step_duration_seconds',
    help: 'ollama-sentinel remediator: duration of healing steps (real ones, verification excluded).',
    labelNames: ['action'],
    buckets: [0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });
  readonly lastAction = new Gauge({
    name: 'sentinel_remediator_last_action_timestamp_seconds',
    help: 'ollama-sentinel remediator: when an action last ran on a target (Unix time).',
    labelNames: ['target', 'action'],
    registers: [this.registry],
  });
  readonly incidentsOpen = new Gauge({
    name: 'sentinel_remediator_incidents_open',
    help: 'ollama-sentinel remediator: incidents not yet closed.',
    registers: [this.registry],
  });
  readonly incidentsClosed = new Counter({
    name: 'sentinel_remediator_incidents_closed_total',
    help: 'ollama-sentinel remediator: closed incidents by target and outcome.',
    labelNames: ['target', 'outcome'],
    registers: [this.registry],
  });
  readonly escalations = new Counter({
    name: 'sentinel_remediator_escalations_total',
    help: 'ollama-sentinel remediator: incidents handed to humans, by target and reason.',
    labelNames: ['target', 'reason'],
    registers: [this.registry],
  });
  readonly timeToHeal = new Histogram({
    name: 'sentinel_remediator_time_to_heal_seconds',
    help: 'ollama-sentinel remediator: from the first alert of an incident to its close as healed, by target.',
    labelNames: ['target'],
    buckets: [15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    registers: [this.registry],
  });
  readonly node = new Gauge({
    name: 'sentinel_remediator_node_info',
    help: 'ollama-sentinel remediator: the node it acts for (always 1; one series): its Swarm node id as its own Docker says (empty outside a Swarm or while unknown) and role (manager, worker, none outside a Swarm, unknown). Absent with node_scope off.',
    labelNames: ['node_id', 'role'],
    registers: [this.registry],
  });
  readonly deferred = new Gauge({
    name: 'sentinel_remediator_incidents_deferred',
    help: 'ollama-sentinel remediator: incidents waiting for the end of a quiet window.',
    registers: [this.registry],
  });

  constructor(build: string | Partial<BuildInfo> = 'unknown') {
    const b = typeof build === 'string' ? { version: build } : build;
    new Gauge({
      name: 'sentinel_remediator_build_info',
      help: 'ollama-sentinel remediator: version, revision (commit), branch and the Node.js it runs on.',
      labelNames: ['version', 'revision', 'branch', 'nodejs_version'],
      registers: [this.registry],
    }).set(
      {
        version: b.version ?? 'unknown',
        revision: b.revision ?? 'unknown',
        branch: b.branch ?? 'unknown',
        nodejs_version: process.version,
      },
      1,
    );
  }

  /** Serving HTTPS: whether the certificate in use follows its files (series absent without TLS). */
  watchTls(status: () => TlsStatus): void {
    new Counter({
      name: 'sentinel_remediator_tls_reload_errors_total',
      help: 'ollama-sentinel remediator: changed TLS certificate/key files that could not be loaded (the previous pair stayed in use).',
      registers: [this.registry],
      collect(this: Counter) {
        this.reset();
        this.inc(status().reloadErrors);
      },
    });
    new Gauge({
      name: 'sentinel_remediator_tls_reload_success',
      help: 'ollama-sentinel remediator: 1 when the TLS certificate served is the one on disk, 0 while the files on disk cannot be loaded.',
      registers: [this.registry],
      collect(this: Gauge) {
        this.set(status().lastReloadOk ? 1 : 0);
      },
    });
  }
}
