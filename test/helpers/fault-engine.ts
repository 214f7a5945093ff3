import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ActionName } from '../../remediator/actions/action.js';
import { RemediationEngine } from '../../remediator/engine/remediation-engine.js';
import type { NotifyEvent, RemediationPorts } from '../../remediator/engine/remediation-ports.js';
import type { Incident } from '../../remediator/incidents/incident.js';
import type { JournalRecord } from '../../remediator/journal/journal-record.js';
import { RemediatorMetrics } from '../../remediator/remediator-metrics.js';
import { AUDIT_FILE, AuditLog, type AuditEntry } from '../../remediator/state/audit-log.js';
import { StateStore } from '../../remediator/state/state-store.js';
import { createRemediationPorts } from '../../remediator/wiring/create-remediation-ports.js';
import { diagnoseTarget } from '../../shared/diagnosis/diagnose-target.js';
import { createLogger } from '../../shared/log/create-logger.js';
import { record } from './engine-harness.js';
import { FakeClock, settle } from './fake-clock.js';
import type { Connection, FaultWorld } from './fault-world.js';
import { loadRemediatorConfig } from './load-remediator-config.js';

/** A remediator's engine on a data dir as start-remediator assembles it: state file and audit log on disk. */
export interface DiskEngine {
  readonly engine: RemediationEngine;
  readonly dir: string;
  readonly notified: NotifyEvent[];
  /** Errors thrown by `beforeDiagnosis` (each one failed that diagnosis). */
  readonly diagnosisErrors: string[];
  /** Feeds alerts (as journal records) and waits until no incident is being driven. */
  send(...recs: Partial<JournalRecord>[]): Promise<void>;
  /** Alertmanager's re-send of the alert: wakes an incident that waits. */
  resend(): Promise<void>;
  /** start() after a restart, then waits until no incident is being driven. */
  resume(): Promise<void>;
  /** The one incident. */
  incident(): Incident;
  /**
   * Appends refused alerts to the audit log until its last page is exactly full, so that on a full disk (no free
   * page) no further line fits anywhere: the audit log fails along with the state file. `keepRoom`: then one short
   * line more, which starts a new page: on a full disk the audit log still takes a few lines, the state file none.
   */
  fillAuditPage(keepRoom?: boolean): Promise<void>;
  /** Graceful stop with no grace: a running step is aborted. Closes the audit log. */
  stop(): Promise<void>;
}

export interface DiskEngineOptions {
  /** Called at the start of each diagnosis (the moment before a step's intent is written). */
  readonly beforeDiagnosis?: () => void | Promise<void>;
}

/**
 * Runs `world.action` as the one step of a rule's ladder: the diagnosis is the world's (the exporter still shows the
 * fault), the action and actionHappened are the real ones over `conn`, verification asks the world.
 */
export async function startDiskEngine(
  world: FaultWorld,
  conn: Connection,
  dir: string,
  opts: DiskEngineOptions = {},
): Promise<DiskEngine> {
  const { all, cfg } = loadRemediatorConfig(
    `models: [{name: llama3, keep_warm: true}]\nremediator:\n  rules: [{name: heal, ladder: [${world.action}]}]\n`,
  );
  const log = createLogger('silent');
  const clock = new FakeClock(Date.parse('2026-06-01T12:00:00Z'));
  // Each reading moves time on by a millisecond, so the audit log's times tell the order things happened in.
  clock.now = () => ++clock.t;
  const real = createRemediationPorts({ cfg, actionDeps: conn.deps, log, firstTokenTimeoutMs: 1_000 });
  const ports: RemediationPorts = {
    ...real,
    async diagnose() {
      // A failure here would only show as "diagnosis_failed" (the engine's log is silent): keep why, for the test.
      await Promise.resolve(opts.beforeDiagnosis?.()).catch((err: unknown) => {
        diagnosisErrors.push(String(err));
        throw err;
      });
      return {
        diagnosis: diagnoseTarget(world.observation()),
        source: 'the fault world',
        observedAtMs: clock.now(),
      };
    },
    verify: async () =>
      world.healthy() ? { healthy: true, detail: 'healthy again' } : { healthy: false, detail: 'still broken' },
  };
  const initial = await StateStore.load(dir);
  const audit = await AuditLog.open(dir, () => clock.now());
  const notified: NotifyEvent[] = [];
  const diagnosisErrors: string[] = [];
  let engine: RemediationEngine;
  const store = new StateStore(dir, () => engine.snapshot());
  engine = new RemediationEngine(
    {
      cfg,
      targets: [world.target],
      models: all.models,
      quiet: new Map(),
      ports,
      audit,
      save: () => store.save(),
      metrics: new RemediatorMetrics('test'),
      clock,
      log,
      notifier: { send: async (e) => void notified.push(e) },
    },
    initial,
  );
  const idle = async () => {
    await settle();
    await engine.idle();
    await settle();
  };
  const alert = record({ rule: 'heal' });
  return {
    engine,
    dir,
    notified,
    diagnosisErrors,
    async send(...recs) {
      engine.accept((recs.length > 0 ? recs : [{}]).map((r) => ({ ...alert, ...r, seq: record().seq })));
      await idle();
    },
    async resend() {
      engine.poke([
        {
          status: 'firing',
          labels: alert.labels,
          annotations: {},
          startsAt: alert.startsAt,
          endsAt: alert.endsAt,
          generatorURL: '',
          fingerprint: alert.fingerprint,
        },
      ]);
      await idle();
    },
    async resume() {
      engine.start();
      await idle();
    },
    async fillAuditPage(keepRoom = false) {
      const size = async () => (await stat(join(dir, AUDIT_FILE))).size;
      // The line of a refused alert grows by exactly one byte per character of its alertname. Waits for the line
      // itself, not for the engine to be idle: this may run while an incident is being driven.
      const refuse = async (alertname: string) => {
        const before = await size();
        engine.accept([record({ labels: { alertname }, refused: 'unknown_target' })]);
        const deadline = Date.now() + 20_000;
        while ((await size()) === before) {
          if (Date.now() > deadline) throw new Error('the refused alert never reached the audit log');
          await delay(2);
        }
      };
      // The length of a refused line is read from the line itself: the engine may append its own lines meanwhile
      // (under load they land between two size readings), and a base taken from sizes would never meet the page end.
      const marker = `fill-${Date.now()}`;
      await refuse(marker);
      const line = (await readFile(join(dir, AUDIT_FILE), 'utf8'))
        .split('\n')
        .find((l) => l.includes(`"alertname":"${marker}"`));
      if (line === undefined) throw new Error('the refused alert is not in the audit log');
      const base = Buffer.byteLength(line) + 1 - marker.length;
      // Bounded: each try aims at the page end from the size now, so only lines the engine keeps adding can miss it.
      for (let tries = 0; ; tries++) {
        const room = (PAGE - ((await size()) % PAGE)) % PAGE;
        if (room === 0) break;
        if (tries === 20) throw new Error(`the audit log's last page could not be filled exactly (${room} bytes left)`);
        await refuse('x'.repeat(room > base ? room - base : room + PAGE - base));
      }
      if (keepRoom) await refuse('x');
      // Accepting saves the state in the background: once this save is done, no write is under way that would free
      // the old file's pages when it lands.
      await store.save();
    },
    incident: () => engine.incidents(1).incidents[0]!,
    async stop() {
      await engine.stop(0).catch(() => undefined);
      await audit.close();
    },
  };
}

/** The page size of tmpfs (and the block size of most filesystems). */
const PAGE = 4096;

export type AuditLine = AuditEntry & { readonly ts: string };

export async function readAudit(dir: string): Promise<AuditLine[]> {
  const text = await readFile(join(dir, AUDIT_FILE), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditLine);
}

/** The audit trail of the steps, one word each: "intent", "result:failed", "recovery:true", "verify:healthy", "close:healed". */
export function stepTrail(lines: readonly AuditEntry[]): string[] {
  return lines
    .filter((e) => ['intent', 'result', 'recovery', 'verify', 'close'].includes(e.kind))
    .map((e) => (e.kind === 'intent' ? 'intent' : `${e.kind}:${String(e.result)}`));
}

/** Intents with neither a result nor a recovery record after them: steps the audit log leaves unexplained. */
export function unexplainedIntents(lines: readonly AuditEntry[], action: ActionName): number {
  let open = 0;
  for (const e of lines.filter((x) => x.action === action)) {
    if (e.kind === 'intent') open++;
    else if ((e.kind === 'result' || e.kind === 'recovery') && open > 0) open--;
  }
  return open;
}

/** Where an incident ended: "closed:<status>", or "waiting:<reason>"; anything else is an incident nothing drives. */
export function settled(inc: Incident): string {
  if (inc.status !== 'open') return `closed:${inc.status}`;
  if (inc.phase === 'waiting') return `waiting:${(inc.reason ?? '').split(':')[0]}`;
  return `STUCK:${inc.phase}${inc.inFlight ? ' with a step in flight' : ''}`;
}
