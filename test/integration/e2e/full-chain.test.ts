/**
 * The full chain on the test environment, every link real: the simulator container (Compose-labelled) -> the exporter
 * (diagnosis, /metrics) -> Prometheus (the generated rules, fast variant) -> Alertmanager (remediate="true" routed to
 * the remediator with bearer auth) -> the remediator (audit log) -> Docker. Two cases a restart heals (the model on the
 * CPU; /api/ps lying about VRAM the GPU does not hold), one it must not touch. Nothing is asserted about durations:
 * every wait has a deadline only so a broken link fails instead of hanging.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { clearFaults, injectCpuFallback, injectPartialOffload } from '../../../deploy/demo/inject-fault.js';
import {
  readAuditLog,
  readDiagnosis,
  readPrometheusAlerts,
  readStartTimes,
  type AuditRecord,
} from '../../../deploy/demo/chain-observers.js';
import { modelRequestFields } from '../../../shared/ollama/model-request-fields.js';
import { readTestEnv } from '../../helpers/read-test-env.js';
import { testDockerClient } from '../../helpers/test-docker-client.js';
import { testEnvSkip } from '../../helpers/test-env-skip.js';
import { waitFor } from '../../helpers/wait-for.js';
import { SimControl } from '../../sim/sim-control.js';
import { startChain, type Chain } from '../../helpers/start-chain.js';

const MODEL = 'qwen2.5:0.5b';
const CPU_ALERT = 'OllamaGpuIdleWhileModelLoaded';
const OFFLOAD_ALERT = 'OllamaModelPartialOffload';
const STEP_MS = 90_000;

/** The parts of the exporter's /api/state this file reads. */
interface ExporterStateDoc {
  readonly targets: Record<string, { readonly observation: { readonly gpuMemoryBytes: number | null } } | undefined>;
  readonly snapshots: {
    readonly gpu_processes?: {
      readonly targets: readonly {
        readonly target: string;
        readonly containers: readonly { readonly id: string }[];
        readonly memoryBytes: number;
        readonly runners: readonly { readonly pid: number; readonly attribution: string; readonly orphan: boolean }[];
      }[];
    };
  };
}

describe(
  'full chain: simulator container -> exporter -> Prometheus -> Alertmanager -> remediator -> Docker',
  { skip: testEnvSkip() },
  () => {
    let docker: Docker;
    let chain: Chain;

    before(async () => {
      const env = readTestEnv();
      docker = testDockerClient(env);
      chain = await startChain(env, docker, {
        tag: `e2e${process.pid}`,
        model: MODEL,
        // Two cases restart the same target minutes apart; the default 10m cooldown would refuse the second restart.
        remediator: { cooldown: '0s' },
        rules: {
          maxFor: '10s',
          alerts: {
            // A restart leaves the API down for a second or two: that must not fire an alert of its own.
            OllamaApiDown: { for: '30s' },
            // Shipped without remediate="true" (a restart cannot fix it). Routed to the remediator here on purpose:
            // even when an escalation-only alert reaches it, the diagnosis must keep it from acting.
            OllamaModelPartialOffload: { remediate: true },
          },
        },
      });
      // The exporter's probe loads the keep_warm model onto the (fake) GPU; wait until that is the healthy baseline.
      await until('a healthy baseline with the model resident on the GPU', async () => {
        const d = await readDiagnosis(chain.exporterUrl, chain.target.name);
        const ps = (await (await fetch(`${chain.target.url}/api/ps`)).json()) as {
          models: { name: string; size: number; size_vram: number }[];
        };
        return d?.status === 'healthy' && ps.models.some((m) => m.name === MODEL && m.size_vram === m.size);
      });
    });

    after(async () => {
      await chain?.stop();
    });

    /** Runs a case; any failure carries every component's recent output. */
    const withLogs = (fn: () => Promise<void>) => async () => {
      try {
        await fn();
      } catch (err) {
        if (err instanceof Error && !err.message.includes('--- exporter ---')) err.message += `\n${await chain.logs()}`;
        throw err;
      }
    };

    /** Waits for a step of the chain; on a deadline the failure carries every component's recent output. */
    async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>): Promise<T> {
      try {
        return await waitFor(probe, { timeoutMs: STEP_MS, intervalMs: 500, what });
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${chain ? await chain.logs() : ''}`, { cause: err });
      }
    }
    const startedAt = async () => Object.values(await readStartTimes(docker, chain.target.container));
    const alerts = async (name: string) =>
      (await readPrometheusAlerts(chain.prometheus.url, name)).filter((a) => a.labels.ollama === chain.target.name);
    const audit = () => readAuditLog(chain.remediatorDataDir);
    const incidentOf = async (alertname: string) =>
      (await audit()).find(
        (e) => e.kind === 'alert' && e.alert?.alertname === alertname && e.alert.status === 'firing' && e.incident,
      );
    const linesOf = async (incident: string) => (await audit()).filter((e) => e.incident === incident);
    const raw = (lines: readonly AuditRecord[]) => lines.map((e) => e.raw).join('\n');

    /** The incident's audit trail shows one restart decided on `reason`, done and verified; Docker agrees. */
    async function assertHealedByRestart(incident: string, reason: string, before: readonly string[]): Promise<void> {
      // Judged once the incident is over, so no step is still running while Docker is asked.
      const closed = await until('the incident to close', async () =>
        (await linesOf(incident)).find((e) => e.kind === 'close'),
      );
      const lines = await linesOf(incident);
      const intent = lines.find((e) => e.kind === 'intent');
      assert.ok(intent, `an intent line precedes the action:\n${raw(lines)}`);
      assert.equal(intent.decision, 'acted');
      assert.equal(intent.reason, reason, 'the diagnosis the action was decided on');
      assert.equal(intent.action, 'restart_container');
      const result = lines.find((e) => e.kind === 'result');
      assert.equal(result?.action, 'restart_container');
      assert.equal(result.result, 'done', result.detail);
      const verified = lines.find((e) => e.kind === 'verify');
      assert.equal(verified?.result, 'healthy', `the remediator's own check after the restart:\n${raw(lines)}`);
      assert.equal(closed.result, 'healed', raw(lines));

      const after = await startedAt();
      assert.equal(after.length, 1, 'the container runs');
      assert.notEqual(after[0], before[0], 'Docker shows a new start time');
    }
    const exporterState = async () =>
      (await (await fetch(`${chain.exporterUrl}/api/state`)).json()) as ExporterStateDoc;
    /** The exporter's sentinel_ollama_condition for the target and one condition, from /metrics (undefined: absent). */
    const conditionMetric = async (condition: string): Promise<number | undefined> => {
      const text = await (await fetch(`${chain.exporterUrl}/metrics`)).text();
      for (const m of text.matchAll(/^sentinel_ollama_condition\{([^}]*)\} (\S+)$/gm)) {
        const labels = m[1]!;
        if (labels.includes(`target="${chain.target.name}"`) && labels.includes(`condition="${condition}"`))
          return Number(m[2]);
      }
      return undefined;
    };

    it(
      'heals a silent CPU fallback by restarting the container, then everything reports healthy',
      { timeout: 180_000 },
      withLogs(async () => {
        const before = await startedAt();
        assert.equal(before.length, 1, 'exactly one container runs the target');

        await injectCpuFallback(chain.target.url, modelRequestFields(chain.model));

        const seen = await until('the exporter to diagnose model_on_cpu', async () => {
          const d = await readDiagnosis(chain.exporterUrl, chain.target.name);
          return d?.status === 'model_on_cpu' ? d : undefined;
        });
        assert.match(seen.findings.find((f) => f.condition === 'model_on_cpu')!.detail, /0 bytes in VRAM/);

        const firing = await until(`${CPU_ALERT} firing in Prometheus`, async () =>
          (await alerts(CPU_ALERT)).find((a) => a.state === 'firing'),
        );
        assert.equal(firing.labels.remediate, 'true');
        assert.equal(firing.labels.severity, 'critical');

        // Alertmanager routed it to the remediator receiver (and the humans too).
        const routed = await until(`${CPU_ALERT} in Alertmanager`, async () => {
          const res = await fetch(`${chain.alertmanager.url}/api/v2/alerts?filter=alertname%3D%22${CPU_ALERT}%22`);
          const list = (await res.json()) as { receivers: { name: string }[] }[];
          return list[0];
        });
        assert.deepEqual(routed.receivers.map((r) => r.name).sort(), ['humans', 'sentinel-remediator']);

        const received = await until(`the remediator to record ${CPU_ALERT}`, () => incidentOf(CPU_ALERT));
        const incident = received.incident as string;

        await assertHealedByRestart(incident, 'model_on_cpu', before);

        await until(
          'the exporter to diagnose the target healthy again',
          async () => (await readDiagnosis(chain.exporterUrl, chain.target.name))?.status === 'healthy',
        );
        await until(`${CPU_ALERT} to resolve in Prometheus`, async () => (await alerts(CPU_ALERT)).length === 0);
      }),
    );

    it(
      'escalates a partial offload to humans and never touches the container',
      { timeout: 180_000 },
      withLogs(async () => {
        const before = await startedAt();
        assert.equal(before.length, 1);

        await injectPartialOffload(chain.target.url, modelRequestFields(chain.model), 0.5);

        await until(
          'the exporter to diagnose partial_offload',
          async () => (await readDiagnosis(chain.exporterUrl, chain.target.name))?.status === 'partial_offload',
        );
        const firing = await until(`${OFFLOAD_ALERT} firing in Prometheus`, async () =>
          (await alerts(OFFLOAD_ALERT)).find((a) => a.state === 'firing'),
        );
        assert.equal(firing.labels.remediate, 'true');

        const received = await until(`the remediator to record ${OFFLOAD_ALERT}`, () => incidentOf(OFFLOAD_ALERT));
        const incident = received.incident as string;
        const closed = await until('the incident to close', async () =>
          (await linesOf(incident)).find((e) => e.kind === 'close'),
        );
        const lines = await linesOf(incident);
        assert.equal(closed.result, 'escalated', raw(lines));
        const decision = lines.find((e) => e.kind === 'decision');
        assert.ok(decision, 'the decision is in the audit log');
        assert.equal(decision.decision, 'escalated');
        assert.equal(decision.reason, 'escalation_only');
        assert.equal(decision.condition, 'partial_offload');
        assert.deepEqual(
          lines.filter((e) => e.kind === 'intent' || e.kind === 'result'),
          [],
          'no step was taken',
        );
        assert.deepEqual(await startedAt(), before, 'the container was not restarted');

        // Back to healthy for whatever runs next.
        await clearFaults(chain.target.url, modelRequestFields(chain.model));
        await until(
          'the exporter to diagnose the target healthy again',
          async () => (await readDiagnosis(chain.exporterUrl, chain.target.name))?.status === 'healthy',
        );
      }),
    );

    it(
      'heals an /api/ps lie (the GPU silently lost, /api/ps still claims 100 % VRAM) by restarting the container',
      { timeout: 180_000 },
      withLogs(async () => {
        const before = await startedAt();
        assert.equal(before.length, 1, 'exactly one container runs the target');
        const sim = new SimControl(chain.target.url);
        const knownIncidents = new Set((await audit()).map((e) => e.incident).filter(Boolean));

        // The precondition that makes a lie detectable: the exporter traces the runner's host PID (the sim container runs
        // with --pid host and writes its runners' host PIDs into the fake GPU state) to the target's container.
        const runnerPid = await until("the exporter to attribute the model's runner to the target", async () => {
          const pid = (await sim.state()).runners.find((r) => r.name === MODEL && r.onGpu && !r.loading)?.pid;
          const usage = (await exporterState()).snapshots.gpu_processes?.targets.find(
            (t) => t.target === chain.target.name,
          );
          const runner = usage?.runners.find((r) => r.pid === pid);
          return pid !== undefined &&
            usage &&
            usage.memoryBytes > 0 &&
            runner?.attribution === 'container' &&
            !runner.orphan
            ? pid
            : undefined;
        });

        const injectedAt = Date.now();
        const lie = await sim.setPsLie(true);
        assert.equal(lie.faults.psLie, true);

        const seen = await until('the exporter to diagnose vram_mismatch', async () => {
          const d = await readDiagnosis(chain.exporterUrl, chain.target.name);
          return d?.status === 'vram_mismatch' ? d : undefined;
        });
        assert.match(
          seen.findings.find((f) => f.condition === 'vram_mismatch')!.detail,
          /\/api\/ps claims \d+ bytes in VRAM but the target's processes hold 0 on the GPU/,
        );
        assert.equal(
          seen.findings.find((f) => f.condition === 'model_on_cpu'),
          undefined,
          'not a visible CPU fallback: /api/ps does not say 0 bytes',
        );
        // Why it is a mismatch: /api/ps still claims all of it in VRAM, the same runner still runs, and the target's
        // container (still resolved) holds nothing on the GPU.
        const ps = (await (await fetch(`${chain.target.url}/api/ps`)).json()) as {
          models: { name: string; size: number; size_vram: number }[];
        };
        assert.ok(
          ps.models.some((m) => m.name === MODEL && m.size > 0 && m.size_vram === m.size),
          JSON.stringify(ps),
        );
        assert.ok(
          (await sim.state()).runners.some((r) => r.pid === runnerPid),
          'the runner was not replaced',
        );
        const state = await exporterState();
        assert.equal(state.targets[chain.target.name]?.observation.gpuMemoryBytes, 0);
        const usage = state.snapshots.gpu_processes?.targets.find((t) => t.target === chain.target.name);
        assert.deepEqual(
          usage?.containers.map((c) => c.id),
          [chain.containerId],
          'the target is still resolved to its container',
        );
        assert.equal(
          await conditionMetric('vram_mismatch'),
          1,
          'sentinel_ollama_condition{condition="vram_mismatch"} on /metrics',
        );

        const firing = await until(`${CPU_ALERT} firing in Prometheus`, async () =>
          (await alerts(CPU_ALERT)).find((a) => a.state === 'firing' && Date.parse(a.activeAt) >= injectedAt - 1000),
        );
        assert.equal(firing.labels.remediate, 'true');

        const received = await until(`the remediator to record a new ${CPU_ALERT}`, async () =>
          (await audit()).find(
            (e) =>
              e.kind === 'alert' &&
              e.alert?.alertname === CPU_ALERT &&
              e.alert.status === 'firing' &&
              e.incident &&
              !knownIncidents.has(e.incident),
          ),
        );
        const incident = received.incident as string;

        await assertHealedByRestart(incident, 'vram_mismatch', before);

        // A fresh simulator: the lie is gone, and the model's new runner is on the GPU and attributed again.
        assert.equal((await sim.state()).faults.psLie, false);
        await until(
          'the exporter to diagnose the target healthy again',
          async () => (await readDiagnosis(chain.exporterUrl, chain.target.name))?.status === 'healthy',
        );
        await until(
          'the target to hold GPU memory again',
          async () => ((await exporterState()).targets[chain.target.name]?.observation.gpuMemoryBytes ?? 0) > 0,
        );
        assert.equal(await conditionMetric('vram_mismatch'), 0);
        await until(`${CPU_ALERT} to resolve in Prometheus`, async () => (await alerts(CPU_ALERT)).length === 0);
      }),
    );
  },
);
