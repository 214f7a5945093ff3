/**
 * Issue 9's proof on the full chain (simulator container -> exporter -> Prometheus with the shipped rules at fast
 * intervals -> Alertmanager -> remediator -> Docker), once per simulated Ollama version profile:
 *
 * 1. A compressed normal day must cause nothing: runner-saturating bursts longer than the probe's first-token deadline,
 *    a busy model past its expiry, keep_alive unloads, a client whose options force reloads, cold loads longer than
 *    every remediable alert's (fast) `for:`, explicit unloads, discovery processes coming and going, idle time. Zero
 *    remediable alerts fire, the remediator takes zero actions, and the exporter's diagnosis never enters a fault.
 * 2. On the same stack, each real fault is still caught and healed with the right step (or escalated, never acted on).
 *
 * Waits have deadlines only so a broken link fails instead of hanging; durations are measured, not asserted, except
 * the issue's healing bounds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import {
  readAuditLog,
  readPrometheusAlerts,
  readStartTimes,
  type AuditRecord,
} from '../../deploy/demo/chain-observers.js';
import { injectCpuFallback } from '../../deploy/demo/inject-fault.js';
import { CONDITIONS, type Diagnosis } from '../../shared/diagnosis/diagnose-target.js';
import type { TargetObservation } from '../../shared/diagnosis/target-observation.js';
import { modelRequestFields } from '../../shared/ollama/model-request-fields.js';
import { readTestEnv } from './read-test-env.js';
import { startChain, type Chain } from './start-chain.js';
import { testDockerClient } from './test-docker-client.js';
import { testEnvSkip } from './test-env-skip.js';
import { waitFor } from './wait-for.js';
import { SimControl } from '../sim/sim-control.js';

const MODEL = 'qwen2.5:0.5b';
/** Configured, not keep_warm: it comes and goes with its users. */
const OTHER = 'llama3.1:8b';
const STEP_MS = 120_000;
/** Conditions that are normal (or mean "not known yet"): everything else is a fault. */
const NOT_FAULTS = new Set(['healthy', 'unknown', 'model_loading', 'runner_busy']);
const FAULTS = CONDITIONS.filter((c) => !NOT_FAULTS.has(c));
/** The normal day's cold loads: longer than every remediable alert's fast `for:` (10 s). */
const SLOW_LOAD_MS = 15_000;

/** The parts of an observation a cross-source finding is made from, on one line. */
function evidenceOf(o: TargetObservation | undefined): string {
  if (!o) return 'no observation';
  const loaded = o.loaded.map((m) => `${m.model} vram=${m.vramBytes} runner=${m.runnerPid}`).join('; ');
  const runners = (o.runners ?? [])
    .map((r) => `pid ${r.pid} ${r.progress} vram=${r.vramBytes} grow=${r.memoryGrowing} started=${r.startedAtMs}`)
    .join('; ');
  const probes = o.probes.map((p) => `${p.model} ok=${p.lastSuccessMs}`).join('; ');
  return `at=${o.observedAtMs} gpu=${o.gpuMemoryBytes} loaded=[${loaded}] runners=[${runners}] probes=[${probes}]`;
}

/**
 * Issue 9's proof for one simulated Ollama version, as its own test file's suite (one file per profile keeps each
 * file within the integration phase's per-file limit).
 */
export function normalDaySuite(version: string): void {
  describe(
    `a normal day, then every fault, on the full chain (Ollama ${version} profile)`,
    { skip: testEnvSkip(), timeout: 600_000 },
    () => {
      let docker: Docker;
      let chain: Chain;
      let sim: SimControl;

      before(async () => {
        const env = readTestEnv();
        docker = testDockerClient(env);
        chain = await startChain(env, docker, {
          tag: `day${version.replace(/\./g, '')}-${process.pid}`,
          model: MODEL,
          extraModels: [{ name: OTHER, keep_alive: '8s' }],
          simArgs: ['--version', version, '--load-delay-ms', '1500', '--num-parallel', '1'],
          exporter: { probe_first_token_timeout: '5s', probe_load_timeout: '2m', ollama_timeout: '3s' },
          // Six faults are healed on purpose on one stack within minutes: the breaker's default budget (5 actions an
          // hour) would rightly stop the later ones; it is tested on its own elsewhere.
          remediator: { cooldown: '0s', breaker_max_actions: 50 },
          rules: { maxFor: '10s', alerts: { OllamaApiDown: { for: '30s' } } },
        });
        sim = new SimControl(chain.target.url);
        await until('a healthy baseline with the keep_warm model resident on the GPU', async () => {
          const d = await diagnosis();
          const ps = await psModels();
          return (
            d?.status === 'healthy' && ps.some((m) => m.name === MODEL && m.size_vram > 0 && m.size_vram === m.size)
          );
        });
      });

      after(async () => {
        await chain?.stop();
      });

      async function until<T>(
        what: string,
        probe: () => Promise<T | undefined | null | false>,
        ms = STEP_MS,
      ): Promise<T> {
        try {
          return await waitFor(probe, { timeoutMs: ms, intervalMs: 500, what });
        } catch (err) {
          throw new Error(`${(err as Error).message}\n${chain ? await chain.logs() : ''}`, { cause: err });
        }
      }
      const stateDoc = async () =>
        (await (await fetch(`${chain.exporterUrl}/api/state`, { signal: AbortSignal.timeout(5000) })).json()) as {
          targets: Record<string, { diagnosis?: Diagnosis; observation?: TargetObservation } | undefined>;
        };
      const targetState = async () => (await stateDoc()).targets[chain.target.name] ?? null;
      const diagnosis = async () => (await targetState())?.diagnosis ?? null;
      const psModels = async () => {
        const res = await fetch(`${chain.target.url}/api/ps`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
        if (!res?.ok) return [];
        return ((await res.json()) as { models: { name: string; size: number; size_vram: number }[] }).models;
      };
      const audit = () => readAuditLog(chain.remediatorDataDir);
      const startedAt = async () => Object.values(await readStartTimes(docker, chain.target.container));
      /** A user's request to the simulated Ollama, as a real client sends it; resolves with the HTTP status and body. */
      const generate = async (body: Record<string, unknown>, timeoutMs = 180_000) => {
        const res = await fetch(`${chain.target.url}/api/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ stream: false, ...body }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        return { status: res.status, body: await res.text() };
      };
      /** Remediable alerts active in Prometheus for the target (pending or firing). */
      const remediable = async () =>
        (await readPrometheusAlerts(chain.prometheus.url)).filter(
          (a) => a.labels.remediate === 'true' && a.labels.ollama === chain.target.name,
        );
      /** Series of `expr` that had a non-empty value at any point of the last `seconds`, from Prometheus. */
      async function everInWindow(expr: string, seconds: number): Promise<string[]> {
        const q = encodeURIComponent(`max_over_time((${expr})[${Math.ceil(seconds)}s:1s])`);
        const body = (await (await fetch(`${chain.prometheus.url}/api/v1/query?query=${q}`)).json()) as {
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        return body.data.result.map((r) => JSON.stringify(r.metric));
      }

      it(
        'a compressed normal day fires no remediable alert, takes no action and never diagnoses a fault',
        { timeout: 600_000 },
        async () => {
          const dayStart = Date.now();
          const auditBefore = (await audit()).length;
          const seen: { at: number; status: string; details: string[]; evidence: string }[] = [];
          // Every diagnosis the exporter shows during the day, at a finer grain than Prometheus scrapes, with the
          // evidence it was made from (so that a fault seen on a CI run explains itself).
          let watching = true;
          const watcher = (async () => {
            while (watching) {
              const t = await targetState().catch(() => null);
              const d = t?.diagnosis;
              if (d)
                seen.push({
                  at: Date.now() - dayStart,
                  status: d.status,
                  details: d.findings.map((f) => `${f.condition}: ${f.detail}`),
                  evidence: evidenceOf(t?.observation),
                });
              await new Promise((r) => setTimeout(r, 400));
            }
          })();
          const users: Promise<{ status: number; body: string }>[] = [];
          const fields = modelRequestFields(chain.model);
          try {
            await sim.configure({ loadDelayMs: SLOW_LOAD_MS, tokenDelayMs: 40 });

            // 1. A burst: three users saturate the single slot for ~3 x 20 s, longer than the probe's 5 s first-token
            // deadline; the probe must not call that hung.
            for (let i = 0; i < 3; i++)
              users.push(
                generate({ ...fields, prompt: `burst ${i}`, options: { ...fields.options, num_predict: 500 } }),
              );
            await Promise.all(users.splice(0));

            // 2. A model that is not keep_warm: a cold load longer than every alert's for:, a generation that outlives its
            // 8 s keep_alive (busy past its expiry: "Stopping..." in `ollama ps`), then the keep_alive unload. Discovery
            // processes come and go meanwhile (a real server runs them at start and on some loads).
            const other = generate({
              model: OTHER,
              prompt: 'a long answer',
              keep_alive: '8s',
              options: { num_predict: 600 },
            });
            await sim.runDiscovery(3000);
            assert.equal((await other).status, 200);
            await until(
              'the other model to unload on its own keep_alive',
              async () => !(await psModels()).some((m) => m.name === OTHER),
              60_000,
            );

            // 3. A client whose options differ from the configured ones forces a reload (a slow cold load), and the probe
            // reloads the configured one after it: two cold loads of the keep_warm model.
            assert.equal(
              (await generate({ ...fields, prompt: 'bigger context', options: { ...fields.options, num_ctx: 8192 } }))
                .status,
              200,
            );
            await until(
              'the probe to reload the keep_warm model with its own options',
              async () => (await diagnosis())?.status === 'healthy' && (await psModels()).some((m) => m.name === MODEL),
              90_000,
            );

            // 4. An explicit unload of the other model right after a short use, and discovery again.
            assert.equal((await generate({ model: OTHER, prompt: 'hi', options: { num_predict: 5 } })).status, 200);
            assert.equal((await generate({ model: OTHER, keep_alive: 0 })).status, 200);
            await sim.runDiscovery(2000);

            // 5. Idle: nothing runs, the GPU sits at 0 %.
            await sim.configure({ loadDelayMs: 1500, tokenDelayMs: 0 });
            await new Promise((r) => setTimeout(r, 20_000));
          } finally {
            watching = false;
            await watcher;
            await Promise.allSettled(users);
          }
          const seconds = (Date.now() - dayStart) / 1000;
          const faults = seen.filter(
            (s) =>
              FAULTS.includes(s.status as (typeof FAULTS)[number]) ||
              s.details.some((d) => FAULTS.some((f) => d.startsWith(`${f}:`))),
          );
          assert.deepEqual(faults, [], `the diagnosis entered a fault during the normal day (${seconds.toFixed(0)} s)`);
          const fired = await everInWindow(
            `ALERTS{remediate="true",alertstate="firing",ollama="${chain.target.name}"}`,
            seconds + 5,
          );
          assert.deepEqual(fired, [], 'no remediable alert fired');
          const conditions = await everInWindow(
            `sentinel_ollama_condition{target="${chain.target.name}",condition=~"${FAULTS.join('|')}"} == 1`,
            seconds + 5,
          );
          assert.deepEqual(conditions, [], 'Prometheus never saw a fault condition');
          const acted = (await audit()).slice(auditBefore).filter((e) => e.kind === 'intent' || e.kind === 'result');
          assert.deepEqual(
            acted.map((e) => e.raw),
            [],
            'the remediator took no action',
          );
          console.log(
            `# normal day on ${version}: ${seconds.toFixed(0)} s, ${seen.length} diagnoses, statuses ${[...new Set(seen.map((s) => s.status))].join(', ')}`,
          );
        },
      );

      /** The newest incident opened by `alertname` after `since`, once closed: its audit lines. */
      async function closedIncident(
        alertname: string,
        since: number,
      ): Promise<{ lines: AuditRecord[]; firedAt: number }> {
        const opened = await until(`the remediator to receive ${alertname}`, async () =>
          (await audit()).find(
            (e) =>
              e.kind === 'alert' &&
              e.alert?.alertname === alertname &&
              e.alert.status === 'firing' &&
              e.incident &&
              Date.parse(e.ts) >= since,
          ),
        );
        const lines = async () => (await audit()).filter((e) => e.incident === opened.incident);
        await until(
          `the ${alertname} incident to close`,
          async () => (await lines()).some((e) => e.kind === 'close'),
          180_000,
        );
        return { lines: await lines(), firedAt: Date.parse(opened.ts) };
      }
      const raw = (lines: readonly AuditRecord[]) => lines.map((e) => e.raw).join('\n');
      const healthyAgain = () =>
        until(
          'the target to be healthy again',
          async () => (await diagnosis())?.status === 'healthy' && (await remediable()).length === 0,
          180_000,
        );

      it(
        'a crashed runner nobody uses is healed by a reload, not a container restart',
        { timeout: 300_000 },
        async () => {
          // A keep_warm model's crashed runner is replaced by the probe's next request (Ollama reloads a model whose
          // runner fails its health ping): only a model nobody calls stays listed with a dead runner.
          const t0 = Date.now();
          const before = await startedAt();
          assert.equal((await generate({ model: OTHER, keep_alive: '10m', options: { num_predict: 3 } })).status, 200);
          await sim.crashRunner(OTHER);
          const { lines } = await closedIncident('OllamaRunnerCrashed', t0);
          const intents = lines.filter((e) => e.kind === 'intent');
          assert.equal(intents[0]?.reason, 'runner_crashed', raw(lines));
          assert.equal(intents[0]?.action, 'reload', raw(lines));
          assert.ok(!intents.some((e) => e.action === 'restart_container'), raw(lines));
          assert.equal(lines.find((e) => e.kind === 'close')?.result, 'healed', raw(lines));
          assert.deepEqual(await startedAt(), before, 'the container was not restarted');
          await healthyAgain();
        },
      );

      it('a hung runner is healed within 120 s of its alert', { timeout: 300_000 }, async () => {
        const t0 = Date.now();
        // GPU discovery processes of the target's own server run meanwhile: no step may ever signal one (a
        // runner kill that hit them would take the server's GPU probe down with it).
        const { discoveryPids } = await sim.runDiscovery(150_000);
        assert.ok(discoveryPids.length > 0);
        await sim.setHangGenerate('nothing');
        const { lines, firedAt } = await closedIncident('OllamaProbeHung', t0);
        const closed = lines.find((e) => e.kind === 'close')!;
        assert.equal(closed.result, 'healed', raw(lines));
        const kill = lines.find((e) => e.kind === 'result' && e.action === 'kill_runner');
        assert.ok(kill, `the runner kill step ran:\n${raw(lines)}`);
        const signalled = new Set([...kill.raw.matchAll(/kill -(?:TERM|KILL) PID (\d+)/g)].map((m) => Number(m[1])));
        assert.ok(signalled.size > 0, `the hung runner was signalled: ${kill.raw}`);
        assert.deepEqual(
          discoveryPids.filter((pid) => signalled.has(pid)),
          [],
          `discovery processes were left alone: ${kill.raw}`,
        );
        const healedIn = (Date.parse(closed.ts) - firedAt) / 1000;
        assert.ok(
          healedIn <= 120,
          `healed ${healedIn.toFixed(0)} s after the alert reached the remediator:\n${raw(lines)}`,
        );
        console.log(
          `# hung runner on ${version}: healed ${healedIn.toFixed(0)} s after its alert, steps ${lines
            .filter((e) => e.kind === 'result')
            .map((e) => `${e.action}=${e.result}`)
            .join(', ')}`,
        );
        await healthyAgain();
      });

      it('a silent CPU fallback is healed by a restart within 60 s of the fault', { timeout: 300_000 }, async () => {
        const t0 = Date.now();
        await injectCpuFallback(chain.target.url, modelRequestFields(chain.model));
        const { lines } = await closedIncident('OllamaGpuIdleWhileModelLoaded', t0);
        assert.equal(lines.find((e) => e.kind === 'intent')?.action, 'restart_container', raw(lines));
        const closed = lines.find((e) => e.kind === 'close')!;
        assert.equal(closed.result, 'healed', raw(lines));
        const healedIn = (Date.parse(closed.ts) - t0) / 1000;
        assert.ok(healedIn <= 60, `healed ${healedIn.toFixed(0)} s after the fault:\n${raw(lines)}`);
        await healthyAgain();
      });

      it(
        'an /api/ps lie (the GPU holds nothing, /api/ps claims it all) is healed by a restart',
        { timeout: 300_000 },
        async () => {
          const t0 = Date.now();
          await sim.setPsLie(true);
          const { lines } = await closedIncident('OllamaGpuIdleWhileModelLoaded', t0);
          const intent = lines.find((e) => e.kind === 'intent');
          assert.equal(intent?.reason, 'vram_mismatch', raw(lines));
          assert.equal(intent?.action, 'restart_container', raw(lines));
          assert.equal(lines.find((e) => e.kind === 'close')?.result, 'healed', raw(lines));
          await healthyAgain();
        },
      );

      it('a missing configured model is pulled', { timeout: 300_000 }, async () => {
        const t0 = Date.now();
        await sim.removeModel(OTHER);
        const { lines } = await closedIncident('OllamaModelMissing', t0);
        assert.equal(lines.find((e) => e.kind === 'intent')?.action, 'pull_model', raw(lines));
        assert.equal(lines.find((e) => e.kind === 'close')?.result, 'healed', raw(lines));
        assert.ok(
          (await sim.state()).localModels.some((m) => m === OTHER),
          'pulled back',
        );
        await healthyAgain();
      });

      it('an out-of-memory load is escalated to humans without any step', { timeout: 300_000 }, async () => {
        const before = await startedAt();
        const auditBefore = (await audit()).length;
        // One real form per version: 0.12's own pre-check text, and llama.cpp's allocation failure on 0.30+.
        const oomText = version.startsWith('0.12')
          ? 'model requires more system memory (16.0 GiB) than is available (7.5 GiB)'
          : 'llama runner process has terminated: cudaMalloc failed: out of memory';
        await sim.setFaults({ oomOnLoad: -1, oomText });
        await sim.expire(MODEL);
        await until(
          'the exporter to diagnose out_of_memory',
          async () => (await diagnosis())?.status === 'out_of_memory',
        );
        await until('OllamaOutOfMemory to fire', async () =>
          (await readPrometheusAlerts(chain.prometheus.url, 'OllamaOutOfMemory')).some((a) => a.state === 'firing'),
        );
        // Give the chain time to (wrongly) act: two probe rounds and an alert group interval.
        await new Promise((r) => setTimeout(r, 15_000));
        const acted = (await audit()).slice(auditBefore).filter((e) => e.kind === 'intent');
        assert.deepEqual(
          acted.map((e) => e.raw),
          [],
          'no step on an out-of-memory failure',
        );
        assert.deepEqual(await startedAt(), before, 'the container was not restarted');
        await sim.setFaults({ oomOnLoad: 0, oomText: null });
        // The probe does not load it again into the same out-of-memory for probe_oom_hold; a user's request does,
        // and then the probe sees it resident and healthy.
        assert.equal((await generate({ ...modelRequestFields(chain.model), prompt: '' })).status, 200);
        await healthyAgain();
      });
    },
  );
}
