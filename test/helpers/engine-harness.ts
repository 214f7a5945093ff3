import type { ActionRequest, ActionResult } from '../../remediator/actions/action.js';
import { RemediationEngine } from '../../remediator/engine/remediation-engine.js';
import type {
  NotifyEvent,
  RemediationPorts,
  SilenceRequest,
  VerifyVerdict,
} from '../../remediator/engine/remediation-ports.js';
import type { GroupSnapshots } from '../../remediator/incidents/group-snapshots.js';
import type { JournalRecord } from '../../remediator/journal/journal-record.js';
import { QuietWindow } from '../../remediator/quiet/quiet-window.js';
import { RemediatorMetrics } from '../../remediator/remediator-metrics.js';
import type { AuditEntry } from '../../remediator/state/audit-log.js';
import { emptyState, type PersistedState } from '../../remediator/state/persisted-state.js';
import { diagnoseTarget } from '../../shared/diagnosis/diagnose-target.js';
import type { TargetObservation } from '../../shared/diagnosis/target-observation.js';
import { createLogger } from '../../shared/log/create-logger.js';
import { FakeClock, settle } from './fake-clock.js';
import { loadRemediatorConfig } from './load-remediator-config.js';
import { observation } from './observation.js';

export const BASE_YAML = `
ollama:
  - name: main
    url: http://127.0.0.1:1
    container: {compose: {project: ai, service: ollama}}
  - name: other
    url: http://127.0.0.1:2
    container: {name: ollama-2}
models:
  - name: llama3
    keep_warm: true
`;

/** The outside world as the engine sees it, scripted by the test and recording every call. */
export class FakePorts implements RemediationPorts {
  obs: (target: string) => TargetObservation = (t) => observation({ target: t });
  steps: ActionRequest[] = [];
  /** Per call: what the action does. Default: done, with one call line. */
  step: (req: ActionRequest) => Promise<ActionResult> | ActionResult = async (req) => {
    if (!req.dryRun) await req.onBefore?.({ marker: `${req.action}-before` });
    return {
      outcome: req.dryRun ? 'skipped' : 'done',
      detail: `${req.action} ${req.dryRun ? 'would run' : 'ran'}`,
      calls: [`${req.dryRun ? 'WOULD ' : ''}${req.action} ${req.target.name}`],
    };
  };
  /** Verdicts in order; when empty: healthy. */
  verdicts: VerifyVerdict[] = [];
  verified: { target: string; model?: string }[] = [];
  happened: boolean | null = true;
  happenedCalls: { action: string; before: Record<string, unknown> }[] = [];
  diagnoses = 0;
  /** The clock observations are dated by (the harness sets its own). */
  now: () => number = Date.now;
  /** When each observation was sampled; default: the observation's own observedAtMs, else now (fresh). */
  observedAt: (target: string, obs: TargetObservation) => number | null = (_t, obs) => obs.observedAtMs ?? this.now();
  verifyOpts: ({ loadTimeoutMs?: number } | undefined)[] = [];

  async diagnose(target: { name: string }) {
    this.diagnoses++;
    const obs = this.obs(target.name);
    return {
      diagnosis: diagnoseTarget(obs),
      source: 'fake',
      observedAtMs: this.observedAt(target.name, obs),
      observation: obs,
    };
  }
  async runStep(req: ActionRequest) {
    this.steps.push(req);
    return this.step(req);
  }
  async actionHappened(action: string, before: Record<string, unknown>) {
    this.happenedCalls.push({ action, before });
    return this.happened;
  }
  async verify(
    target: { name: string },
    model: { name: string } | undefined,
    _signal?: AbortSignal,
    opts?: { loadTimeoutMs?: number },
  ) {
    this.verifyOpts.push(opts);
    this.verified.push({ target: target.name, ...(model ? { model: model.name } : {}) });
    return this.verdicts.shift() ?? { healthy: true, detail: 'probe answered, 100 % in VRAM' };
  }
  real(): string[] {
    return this.steps.filter((s) => !s.dryRun).map((s) => `${s.action}@${s.target.name}`);
  }
}

export interface Harness {
  engine: RemediationEngine;
  ports: FakePorts;
  clock: FakeClock;
  audit: AuditEntry[];
  saved: () => PersistedState;
  metrics: RemediatorMetrics;
  notified: NotifyEvent[];
  silences: { created: SilenceRequest[]; removed: string[] };
  /** Holds every save until the returned function is called (to land an alert while state is being written). */
  holdSaves(): () => void;
  /** Feeds journal records (seq assigned) and waits until the engine is idle. */
  send(...recs: Partial<JournalRecord>[]): Promise<void>;
  dispose(): Promise<void>;
}

let seq = 0;

export function record(over: Partial<JournalRecord> = {}): JournalRecord {
  return {
    seq: ++seq,
    receivedAt: 0,
    fingerprint: 'f0000000000000aa',
    status: 'firing',
    startsAt: '2026-06-01T00:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    labels: { alertname: 'OllamaBroken', ollama: 'main' },
    receiver: 'remediator',
    groupKey: 'g',
    target: 'main',
    rule: 'heal',
    ...over,
  };
}

export function makeHarness(
  opts: {
    remediatorYaml?: string;
    startAt?: number;
    initial?: PersistedState;
    ports?: FakePorts;
    withSilencer?: boolean;
    /** What Alertmanager groups' latest notifications listed firing (the intake feeds it in the real wiring). */
    groups?: GroupSnapshots;
  } = {},
): Harness {
  const yaml = `${BASE_YAML}\nremediator:\n${opts.remediatorYaml ?? '  rules:\n    - name: heal\n'}`;
  const { all, cfg } = loadRemediatorConfig(yaml);
  const clock = new FakeClock(opts.startAt ?? Date.parse('2026-06-01T12:00:00Z'));
  const ports = opts.ports ?? new FakePorts();
  ports.now = () => clock.now();
  const audit: AuditEntry[] = [];
  const notified: NotifyEvent[] = [];
  const silences = { created: [] as SilenceRequest[], removed: [] as string[] };
  const metrics = new RemediatorMetrics('test');
  const quiet = new Map(Object.entries(cfg.quiet_hours).map(([name, w]) => [name, new QuietWindow(name, w)]));
  let saved = opts.initial ?? emptyState();
  let hold: Promise<void> | undefined;
  // Ids go on from the saved incidents', as newIncidentId's would (they carry the time).
  let ids = Math.max(0, ...saved.book.incidents.map((i) => Number(i.id.split('-').at(-1)) || 0));
  const engine: RemediationEngine = new RemediationEngine(
    {
      cfg,
      targets: all.ollama,
      models: all.models,
      quiet,
      ports,
      audit: { write: async (e) => void audit.push(JSON.parse(JSON.stringify(e)) as AuditEntry) },
      save: async () => {
        if (hold) await hold;
        saved = JSON.parse(JSON.stringify(engine.snapshot())) as PersistedState;
      },
      metrics,
      clock,
      log: createLogger('silent'),
      notifier: { send: async (e) => void notified.push(e) },
      ...(opts.groups ? { groups: opts.groups } : {}),
      ...(opts.withSilencer
        ? {
            silencer: {
              create: async (r) => (silences.created.push(r), `sil-${silences.created.length}`),
              remove: async (id) => void silences.removed.push(id),
            },
          }
        : {}),
      newId: () => `inc-${++ids}`,
    },
    saved,
  );
  return {
    engine,
    ports,
    clock,
    audit,
    metrics,
    notified,
    silences,
    saved: () => saved,
    holdSaves() {
      let release!: () => void;
      hold = new Promise<void>((r) => (release = r));
      return () => {
        hold = undefined;
        release();
      };
    },
    async send(...recs) {
      engine.accept(recs.map((r) => record(r)));
      await settle();
      await engine.idle();
      await settle();
    },
    async dispose() {
      await engine.stop(0);
      for (const w of quiet.values()) w.destroy();
    },
  };
}

export function decisions(audit: readonly AuditEntry[]): string[] {
  return audit
    .filter((e) => e.decision)
    .map((e) => `${e.kind}:${e.decision}:${e.reason ?? ''}${e.action ? `:${e.action}` : ''}`);
}
