import type Docker from 'dockerode';
import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import { modelRequestFields } from '../../shared/ollama/model-request-fields.js';
import {
  fetchJson,
  readAuditLog,
  readDiagnosis,
  readPrometheusAlerts,
  readStartTimes,
  type AuditRecord,
} from './chain-observers.js';
import { injectCpuFallback } from './inject-fault.js';

export const CPU_FALLBACK_ALERT = 'OllamaGpuIdleWhileModelLoaded';
/** The steps that replace the Ollama process: what "healed by a container restart" means. */
const RESTART_STEPS = ['restart_container', 'recreate_container', 'force_update_service', 'redeploy_stack'];

export interface ScenarioEnv {
  /** Must declare its container (the restart needs it). */
  readonly target: OllamaTargetConfig;
  readonly model: ModelConfig;
  readonly exporterUrl: string;
  readonly prometheusUrl: string;
  /** The remediator's data_dir (audit.jsonl). */
  readonly remediatorDataDir: string;
  readonly docker: Docker;
  readonly timeoutMs: number;
  /** One narration line (the demo prints it to stderr). */
  readonly say: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface ScenarioResult {
  readonly passed: boolean;
  readonly elapsedMs: number;
  /** What did not happen (or went wrong), with where to look. */
  readonly failure?: string;
}

/** Thrown by a probe to stop waiting at once: what it saw means the awaited thing will not happen. */
class GiveUp extends Error {}

/**
 * Calls `probe` until it returns something other than undefined, or the deadline passes (then null). A probe that
 * throws counts as "not yet" (the services being watched restart on purpose during a scenario), except GiveUp.
 */
async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  opts: { readonly deadline: number; readonly intervalMs?: number; readonly signal?: AbortSignal },
): Promise<T | null> {
  const interval = opts.intervalMs ?? 1000;
  for (;;) {
    if (opts.signal?.aborted) return null;
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
    }
    if (Date.now() + interval > opts.deadline) return null;
    await new Promise((r) => setTimeout(r, interval));
  }
}

class StageFailed extends GiveUp {}

/**
 * The silent-CPU-fallback story, end to end: inject it into the simulator, then watch every link of the chain and
 * narrate it: the exporter's diagnosis, the Prometheus alert, its delivery to the remediator, the restart it
 * performs (audit log and Docker's start time), its own verification, the exporter healthy again, the alert resolved.
 */
export async function runCpuFallbackScenario(env: ScenarioEnv): Promise<ScenarioResult> {
  const t0 = Date.now();
  const deadline = t0 + env.timeoutMs;
  const at = () => `[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s]`;
  const say = (line: string) => env.say(`${at()} ${line}`);
  const selector = env.target.container;
  if (!selector)
    return {
      passed: false,
      elapsedMs: 0,
      failure: `target ${env.target.name} declares no container: nothing to restart`,
    };
  const name = env.target.name;

  async function stage<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const value = await pollUntil(probe, { deadline, intervalMs: 1000, ...(env.signal ? { signal: env.signal } : {}) });
    if (value === null)
      throw new StageFailed(
        env.signal?.aborted
          ? `interrupted while waiting: ${what}`
          : `not seen within ${Math.round(env.timeoutMs / 1000)} s: ${what}`,
      );
    return value;
  }
  const activeAlerts = async () =>
    (await readPrometheusAlerts(env.prometheusUrl, CPU_FALLBACK_ALERT)).filter((a) => a.labels.ollama === name);
  let auditSeen = 0;
  const newAudit = async (): Promise<AuditRecord[]> => (await readAuditLog(env.remediatorDataDir)).slice(auditSeen);

  try {
    const before = await stage(
      `target ${name} healthy with its container running and no ${CPU_FALLBACK_ALERT} alert`,
      async () => {
        const d = await readDiagnosis(env.exporterUrl, name);
        const starts = await readStartTimes(env.docker, selector);
        if (d?.status !== 'healthy' || Object.keys(starts).length === 0 || (await activeAlerts()).length > 0)
          return undefined;
        return starts;
      },
    );
    auditSeen = (await readAuditLog(env.remediatorDataDir)).length;
    // Which Ollama the target is (the simulator plays the version run-demo.sh gave it): the profile decides what a
    // load, a runner and /api/ps look like, so the narration names it.
    const version = await fetchJson(`${env.target.url}/api/version`)
      .then((v) => (v as { version?: unknown }).version)
      .catch(() => undefined);
    const started = Object.entries(before).map(([c, s]) => `container ${c} started ${s}`);
    const ollama = typeof version === 'string' ? `Ollama ${version}` : 'Ollama version unknown';
    say(`baseline: target ${name} (${ollama}) healthy; ${started.join(', ')}`);

    await injectCpuFallback(env.target.url, modelRequestFields(env.model));
    say(
      `injected: the simulator's next loads get no GPU (POST /_sim/faults {"cpuFallback":true}), then ${env.model.name} was unloaded (as if its keep_alive ran out) and loaded again: it now runs on the CPU while /api/ps still lists it`,
    );

    const diag = await stage(`the exporter's diagnosis of ${name} shows model_on_cpu or vram_mismatch`, async () => {
      const d = await readDiagnosis(env.exporterUrl, name);
      return d && (d.status === 'model_on_cpu' || d.status === 'vram_mismatch') ? d : undefined;
    });
    say(
      `1. condition seen by the exporter (/api/state): ${diag.status}: ${diag.findings.find((f) => f.condition === diag.status)?.detail ?? ''}`,
    );

    const alert = await stage(`Prometheus alert ${CPU_FALLBACK_ALERT}{ollama="${name}"} firing`, async () =>
      (await activeAlerts()).find((a) => a.state === 'firing'),
    );
    say(
      `2. alert firing in Prometheus: ${CPU_FALLBACK_ALERT}{${Object.entries(alert.labels)
        .filter(([k]) => k !== 'alertname')
        .map(([k, v]) => `${k}="${v}"`)
        .join(', ')}} (pending since ${alert.activeAt})`,
    );

    const delivered = await stage(
      `the remediator's audit log records ${CPU_FALLBACK_ALERT} arriving from Alertmanager`,
      async () => {
        const line = (await newAudit()).find(
          (e) => e.kind === 'alert' && e.alert?.alertname === CPU_FALLBACK_ALERT && e.alert.status === 'firing',
        );
        if (line && !line.incident) throw new StageFailed(`the remediator refused the alert: ${line.raw}`);
        return line;
      },
    );
    say(`3. Alertmanager delivered it to the remediator; audit: ${delivered.raw}`);

    const acted = await stage('the remediator restarts the container (audit result of a restart step)', async () => {
      const lines = await newAudit();
      const mine = lines.filter((e) => e.incident === delivered.incident);
      const refused = mine.find(
        (e) => e.decision === 'escalated' || e.decision === 'dropped' || (e.kind === 'close' && e.result !== 'healed'),
      );
      if (refused) {
        const checks = mine
          .filter((e) => e.kind === 'verify')
          .map((e) => `after ${e.action}: ${e.result}: ${e.detail}`);
        throw new StageFailed(
          `the remediator did not heal it: ${refused.raw}${checks.length ? `\n  its own checks: ${checks.join('\n                  ')}` : ''}`,
        );
      }
      return mine.find((e) => e.kind === 'result' && RESTART_STEPS.includes(e.action ?? '') && e.result === 'done');
    });
    const intent = (await newAudit()).find((e) => e.kind === 'intent' && e.incident === acted.incident);
    if (intent) say(`4. remediator decided; audit: ${intent.raw}`);
    say(`   remediator acted; audit: ${acted.raw}`);

    const after = await stage('Docker shows a new start time for the container', async () => {
      const now = await readStartTimes(env.docker, selector);
      return Object.keys(before).some((c) => now[c] !== undefined && now[c] !== before[c]) ? now : undefined;
    });
    say(
      `5. container restarted (Docker): ${Object.keys(before)
        .map((c) => `${c} ${before[c]} -> ${after[c] ?? 'gone'}`)
        .join(', ')}`,
    );

    const verified = await stage('the remediator verifies recovery itself (audit verify healthy)', async () =>
      (await newAudit()).find((e) => e.kind === 'verify' && e.incident === acted.incident && e.result === 'healthy'),
    );
    say(`6. remediator verified recovery; audit: ${verified.raw}`);

    await stage(`the exporter's diagnosis of ${name} is healthy again`, async () =>
      (await readDiagnosis(env.exporterUrl, name))?.status === 'healthy' ? true : undefined,
    );
    say(`7. healthy again: the exporter diagnoses ${name} as healthy`);

    await stage(`Prometheus alert ${CPU_FALLBACK_ALERT}{ollama="${name}"} resolved`, async () =>
      (await activeAlerts()).length === 0 ? true : undefined,
    );
    say(`8. alert resolved in Prometheus`);
    return { passed: true, elapsedMs: Date.now() - t0 };
  } catch (err) {
    const failure = err instanceof StageFailed ? err.message : `unexpected error: ${(err as Error).message}`;
    say(`FAILED: ${failure}`);
    return { passed: false, elapsedMs: Date.now() - t0, failure };
  }
}
