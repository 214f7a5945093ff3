import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedConfig } from '../../shared/config/load-config.js';
import { createDockerClient } from '../../shared/docker/create-docker-client.js';
import { ConfigError } from '../../shared/config/config-issues.js';
import { startHttpServer, type RunningServer } from '../../shared/http/start-http-server.js';
import type { Logger } from '../../shared/log/create-logger.js';
import { systemClock, type Clock } from '../engine/clock.js';
import { RemediationEngine } from '../engine/remediation-engine.js';
import { GroupSnapshots } from '../incidents/group-snapshots.js';
import type { RemediationPorts } from '../engine/remediation-ports.js';
import { AlertIntake } from '../ingress/alert-intake.js';
import { createRemediatorApp, type Readiness } from '../ingress/create-remediator-app.js';
import { DEFAULT_PAYLOAD_LIMITS } from '../ingress/webhook-payload.js';
import { AlertJournal } from '../journal/alert-journal.js';
import { DedupCache } from '../journal/dedup-cache.js';
import { alertKey } from '../journal/journal-record.js';
import { parseNodeScope, type OwnNode } from '../node/own-node.js';
import { OwnNodeWatch } from '../node/own-node-watch.js';
import { alertmanagerSilencer } from '../notify/alertmanager-silencer.js';
import { webhookNotifier } from '../notify/webhook-notifier.js';
import { compileRules } from '../policy/match-rule.js';
import { QuietWindow } from '../quiet/quiet-window.js';
import { RemediatorMetrics } from '../remediator-metrics.js';
import type { RemediatorConfig } from '../remediator-section.js';
import { nodeCronScheduler, ScheduleRunner, type CronScheduler } from '../schedules/schedule-runner.js';
import { AuditLog } from '../state/audit-log.js';
import { acquireInstanceLock } from '../state/instance-lock.js';
import { StateStore } from '../state/state-store.js';
import { TargetHistory } from '../state/target-history.js';
import type { ActionDeps } from '../actions/action.js';
import { recordCurrentOwnership } from '../actions/record-ownership.js';
import { buildActionDeps } from './build-action-deps.js';
import { createRemediationPorts } from './create-remediation-ports.js';
import { readRemediatorSecrets, remediatorFileIssues } from './remediator-files.js';
import { resolveSelfIdentity } from './resolve-self-identity.js';

export interface RunningRemediator {
  readonly url: string;
  readonly engine: RemediationEngine;
  /** SIGTERM path: stop accepting, let the running step finish (bounded), persist, release everything. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly version: string;
  /** Commit and branch for sentinel_remediator_build_info ("unknown" when absent). */
  readonly revision?: string;
  readonly branch?: string;
  /** The process environment (DOCKER_CONFIG for the docker CLI). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly scheduler?: CronScheduler;
  /**
   * Replaces the real outside world (Docker, Ollama, exporter); only for tests of the assembly. A function gets the
   * real action dependencies (Docker from docker.host, this node's identity), so a test can run the real actions.
   */
  readonly ports?: RemediationPorts | ((real: { readonly actionDeps: ActionDeps }) => RemediationPorts);
}

const DEDUP_CAPACITY = 50_000;

/** Assembles and starts the remediator from a validated configuration. */
export async function startRemediator(
  config: LoadedConfig,
  log: Logger,
  opts: StartOptions,
): Promise<RunningRemediator> {
  const cfg = config.remediator as RemediatorConfig;
  const clock = opts.clock ?? systemClock;
  // Every file is read before anything is written: a bad one is a configuration problem, not a half-started service.
  const fileIssues = remediatorFileIssues(cfg, config.ollama);
  if (fileIssues.length > 0) throw new ConfigError(fileIssues, 'the files it names');
  const secrets = readRemediatorSecrets(cfg);
  await mkdir(cfg.data_dir, { recursive: true, mode: 0o700 });
  const lock = await acquireInstanceLock(cfg.data_dir);
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => lock.release()];
  try {
    const state = await StateStore.load(cfg.data_dir);
    const opened = await AlertJournal.open(join(cfg.data_dir, 'journal'), cfg.journal_segment_bytes, state.appliedSeq);
    const journal = opened.journal;
    cleanups.push(() => journal.close());
    if (opened.damagedLines > 0)
      log.warn(
        { lines: opened.damagedLines },
        'skipped unreadable journal lines (a write cut short by a crash is never acknowledged)',
      );
    const audit = await AuditLog.open(cfg.data_dir, () => clock.now(), {
      maxBytes: cfg.audit_rotate_bytes,
      keepFiles: cfg.audit_keep_files,
      onRotateError: (err) =>
        log.error(
          { err: err.message },
          'rotating the audit log failed: records go on to audit.jsonl (retried in a minute)',
        ),
    });
    cleanups.push(() => audit.close());

    const docker = createDockerClient(config.docker);
    const self = await resolveSelfIdentity(
      config.gpu.proc_root,
      cfg.self,
      docker,
      AbortSignal.timeout(config.docker.timeout_ms),
    );
    log.info({ self }, 'remediator identity (never acted on)');
    const metrics = new RemediatorMetrics({ version: opts.version, revision: opts.revision, branch: opts.branch });
    const nodeWatch = await watchOwnNode(cfg, docker, clock, config.docker.timeout_ms, log, metrics);
    if (nodeWatch) cleanups.push(() => nodeWatch.stop());
    const history = await TargetHistory.open(cfg.data_dir, config.ollama, {
      now: () => clock.now(),
      warn: (fields, message) => log.warn(fields, message),
    });
    const actionDeps = {
      ...buildActionDeps(config, cfg, docker, self, log, opts.env ?? {}, history),
      ...(nodeWatch ? { ownNode: (signal: AbortSignal) => nodeWatch.readForAction(signal) } : {}),
    };
    // What each target owns now, in the background (Docker may be slow or down); shutdown waits for it.
    const recorded = opts.ports ? Promise.resolve() : recordCurrentOwnership(config.ollama, actionDeps);
    cleanups.push(async () => {
      await recorded;
      await history.flushed();
    });
    const ports =
      typeof opts.ports === 'function'
        ? opts.ports({ actionDeps })
        : (opts.ports ??
          createRemediationPorts({
            cfg,
            actionDeps,
            log,
            firstTokenTimeoutMs: 30_000,
            ...(secrets.exporterAuth ? { exporterAuth: secrets.exporterAuth } : {}),
          }));

    const quiet = new Map(Object.entries(cfg.quiet_hours).map(([name, w]) => [name, new QuietWindow(name, w)]));
    cleanups.push(() => quiet.forEach((w) => w.destroy()));
    const store = new StateStore(
      cfg.data_dir,
      () => running.snapshot(),
      async (s) => {
        await journal
          .compact(s.appliedSeq)
          .catch((err: Error) => log.warn({ err: err.message }, 'journal compaction failed'));
      },
    );
    const groups = new GroupSnapshots();
    const running: RemediationEngine = new RemediationEngine(
      {
        cfg,
        groups,
        targets: config.ollama,
        models: config.models,
        quiet,
        ports,
        audit,
        save: () => store.save(),
        metrics,
        clock,
        log: log.child({ component: 'engine' }),
        ...(cfg.silence.enabled && cfg.silence.alertmanager_url
          ? {
              silencer: alertmanagerSilencer(cfg.silence.alertmanager_url, {
                now: () => clock.now(),
                ...(secrets.silenceToken ? { bearerToken: secrets.silenceToken } : {}),
              }),
            }
          : {}),
        ...(cfg.notify
          ? {
              notifier: webhookNotifier(
                cfg.notify.url,
                secrets.notifyToken ? { bearerToken: secrets.notifyToken } : {},
              ),
            }
          : {}),
      },
      state,
    );

    const dedup = new DedupCache(DEDUP_CAPACITY);
    for (const inc of state.book.incidents) for (const a of inc.alerts) dedup.add(alertKey(a));
    for (const rec of opened.pending) dedup.add(alertKey(rec));
    // Accepted before the crash but never applied: apply now, before new webhooks.
    if (opened.pending.length > 0) log.info({ records: opened.pending.length }, 'replaying the alert journal');
    running.accept(opened.pending);
    running.start();

    const schedules = new ScheduleRunner({
      schedules: cfg.schedules,
      targets: config.ollama,
      models: config.models,
      dryRun: cfg.dry_run,
      stepTimeoutMs: cfg.step_timeout_ms,
      scheduler: opts.scheduler ?? nodeCronScheduler,
      clock,
      log: log.child({ component: 'schedules' }),
      metrics,
      runStep: (req) => ports.runStep(req),
      lockTarget: (t) => (running.targetBusy(t) ? Promise.resolve(null) : running.lockTarget(t, 0)),
      audit: (e) => audit.write(e).catch((err: Error) => log.error({ err: err.message }, 'cannot write the audit log')),
    });
    schedules.start();
    cleanups.push(() => schedules.stop());

    let accepting = true;
    const intake = new AlertIntake({
      journal,
      dedup,
      rules: compileRules(cfg.rules),
      targetLabel: cfg.target_label,
      targetNames: config.ollama.map((t) => t.name),
      defaultSingleTarget: cfg.default_single_target,
      now: () => clock.now(),
      ...(nodeWatch ? { judgeNodes: (labels) => nodeWatch.judge(labels) } : {}),
      onRecorded: (records) => running.accept(records),
      onDuplicates: (alerts) => running.poke(alerts),
      onGroup: (p) => groups.note(p.groupKey, p.alerts, p.truncatedAlerts),
    });
    const app = createRemediatorApp({
      credentials: {
        ...(secrets.bearerToken !== undefined ? { bearerToken: secrets.bearerToken } : {}),
        ...(secrets.basic ? { basic: secrets.basic } : {}),
      },
      maxBodyBytes: cfg.max_body_bytes,
      limits: { ...DEFAULT_PAYLOAD_LIMITS, maxAlerts: cfg.max_alerts_per_request },
      metrics,
      log: log.child({ component: 'http' }),
      version: opts.version,
      ingest: (p) => intake.ingest(p),
      accepting: () => accepting,
      incidents: (limit) => running.incidents(limit),
      resetBreaker: (by) => running.resetBreaker(by),
      ready: () =>
        checkReadiness(
          cfg.data_dir,
          (signal) =>
            Promise.race([
              docker.ping(),
              new Promise((_, reject) =>
                signal.addEventListener('abort', () => reject(new Error('no answer within 3 s')), { once: true }),
              ),
            ]),
          () => accepting,
          nodeWatch ? () => nodeWatch.current() : undefined,
        ),
    });
    const server: RunningServer = await startHttpServer(cfg, app, log.child({ component: 'http' }));
    if (server.tls) metrics.watchTls(server.tls);
    return {
      url: server.url,
      engine: running,
      async stop() {
        accepting = false;
        await server.close(5_000);
        schedules.stop();
        await running.stop(cfg.shutdown_grace_ms);
        for (const c of cleanups.reverse()) await c();
      },
    };
  } catch (err) {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    throw err;
  }
}

/**
 * node_scope auto or fixed: this node's identity from its Docker, read before the webhook listens (bounded retry:
 * alerts that name a node get 503 until it is known), then kept fresh (node/own-node-watch.ts). Null with off.
 */
async function watchOwnNode(
  cfg: RemediatorConfig,
  docker: ConstructorParameters<typeof OwnNodeWatch>[0]['docker'],
  clock: Clock,
  dockerTimeoutMs: number,
  log: Logger,
  metrics: RemediatorMetrics,
): Promise<OwnNodeWatch | null> {
  const scope = parseNodeScope(cfg.node_scope)!; // validated with the configuration
  if (scope.kind === 'off') return null;
  const watch = new OwnNodeWatch({
    docker,
    rules: { scope, label: cfg.node_label, required: cfg.require_node_label },
    clock,
    timeoutMs: Math.min(dockerTimeoutMs, 5_000),
    log: log.child({ component: 'node' }),
    onChange: (node) => showNode(metrics, node),
  });
  const node = await watch.start();
  showNode(metrics, node);
  if (node.state === 'unknown')
    log.warn(
      { node: node.detail, scope: cfg.node_scope },
      "this node's Swarm identity is unknown for now: alerts that name a node are answered 503 until Docker says",
    );
  else log.info({ node: node.detail, scope: cfg.node_scope }, 'acting for this node only (node_scope)');
  return watch;
}

function showNode(metrics: RemediatorMetrics, node: OwnNode): void {
  const role =
    node.state === 'swarm' ? (node.manager ? 'manager' : 'worker') : node.state === 'no_swarm' ? 'none' : 'unknown';
  metrics.node.reset();
  metrics.node.set({ node_id: node.id ?? '', role }, 1);
}

/** /readyz: the configuration loaded (we run), the data directory is writable, the Docker Engine answers. */
export async function checkReadiness(
  dataDir: string,
  pingDocker: (signal: AbortSignal) => Promise<unknown>,
  accepting: () => boolean,
  ownNode?: () => { readonly state: string; readonly detail: string },
): Promise<Readiness> {
  const checks: Record<string, string> = { config: 'ok' };
  checks.data_dir = await access(dataDir, constants.W_OK).then(
    () => 'ok',
    (err: NodeJS.ErrnoException) => `not writable (${err.code ?? err.message})`,
  );
  checks.docker = await pingDocker(AbortSignal.timeout(3000)).then(
    () => 'ok',
    (err: Error) => `unreachable (${err.message})`,
  );
  checks.accepting = accepting() ? 'ok' : 'shutting down';
  // Alerts that name a node wait (503) while this node's identity is unknown.
  const node = ownNode?.();
  if (node) checks.node = node.state === 'unknown' ? `unknown (${node.detail})` : 'ok';
  return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
}
