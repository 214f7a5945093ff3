import type { AlertDefinition } from './alert-definition.js';
import type { MonitoringConfig } from './monitoring-config.js';
import { createPromql } from './recording-rules.js';

/**
 * The per-target Ollama alerts. Every remediable one keys on the exporter's diagnosis (`sentinel_ollama_condition`),
 * never on raw series: the diagnosis knows what raw series cannot (a cold load, a runner busy with users, a model on
 * the CPU by design, two sources sampled at different moments), and the remediator re-checks that same diagnosis
 * before it acts, so an alert and the action it leads to cannot disagree.
 */
export function ollamaAlertDefinitions(cfg: MonitoringConfig): AlertDefinition[] {
  const q = createPromql(cfg);
  const t = cfg.thresholds;
  const where = 'on {{ $labels.instance }}';
  const model = '{{ $labels.model }} on Ollama target {{ $labels.target }}';
  /** One series per target (the condition label dropped) while the diagnosis holds `condition`. */
  const holds = (condition: string) =>
    `max ${q.by('target')} (${q.metric('sentinel_ollama_condition', `condition="${condition}"`)}) == 1`;
  return [
    {
      name: 'OllamaApiDown',
      group: 'ollama',
      expr: `${q.metric('sentinel_ollama_up')} == 0`,
      perTarget: true,
      summary: 'The Ollama API does not answer.',
      description: `Ollama target {{ $labels.target }} (exporter ${where}) has not answered HEAD / for ${cfg.alerts.OllamaApiDown.for}.`,
      meaning:
        'The Ollama HTTP server does not answer at all: the container is stopped, crash-looping, or its port is unreachable.',
      steps: [
        'The remediator restarts the container (remediate="true"); check its incident log at /api/incidents.',
        'By hand: `docker logs --tail 100 <ollama container>`, `docker inspect -f "{{.State}}" <container>`.',
      ],
    },
    {
      name: 'OllamaGpuIdleWhileModelLoaded',
      group: 'ollama',
      // Keyed on the exporter's diagnosis, which already rules out the normal look-alikes (a cold load, a model on the
      // CPU by design, one-sample disagreements between /api/ps and the GPU process data). The process evidence
      // (vram_mismatch) needs every GPU process traced to its container: while some GPU memory on the host belongs
      // to processes that could not be traced, it is inconclusive and must not trigger restarts. A model /api/ps
      // itself places on the CPU (model_on_cpu) needs no such evidence. One series per target either way, so a
      // switch between the two conditions keeps the `for:` running.
      expr: `(
  ${holds('vram_mismatch')}
  unless ${q.on()}
  (
    sum ${q.by()} (${q.metric('sentinel_gpu_container_memory_used_bytes', 'attribution=~"exited|unconfirmed"')}) > 0
  )
)
or ${q.on('target')}
${holds('model_on_cpu')}`,
      perTarget: true,
      summary: 'Ollama has a model loaded but the GPU is not holding it: silent CPU fallback.',
      description: `Ollama target {{ $labels.target }} (exporter ${where}) has a loaded model that the GPU does not hold (/api/ps places it on the CPU, or the target's processes hold less than half the VRAM /api/ps claims) for ${cfg.alerts.OllamaGpuIdleWhileModelLoaded.for}, although it is not loading and not configured for the CPU. Inference runs on the CPU.`,
      meaning:
        "The diagnosis says `model_on_cpu` (a loaded model has 0 bytes in VRAM) or `vram_mismatch` (/api/ps claims VRAM that the target's processes do not hold, on consecutive samples): the container lost its GPU (e.g. after `systemctl daemon-reload` with the systemd cgroup driver) or Ollama fell back to the CPU. It stays silent on the normal cases: a model that is still loading (Ollama 0.12 lists it with its planned size_vram before its runner holds any VRAM; 0.30+ lists it only once loaded, and /api/ps may block meanwhile from 0.32.4), a model configured for the CPU (`num_gpu: 0` or `min_vram_ratio: 0` in `models:`), a model that keep_alive unloaded, and a host where some GPU memory cannot be traced to a container (the evidence is then inconclusive).",
      steps: [
        'The remediator restarts the Ollama container (remediate="true"), then re-warms the keep_warm models.',
        'Confirm by hand: `docker exec <ollama> nvidia-smi -L` ("Failed to initialize NVML" = the cgroup bug) and `ollama ps` (PROCESSOR column); `/api/state` of the exporter has the finding and its numbers.',
        'Permanent fix for the cgroup bug: `"exec-opts": ["native.cgroupdriver=cgroupfs"]` in /etc/docker/daemon.json, or the NVIDIA /dev/char symlinks.',
        'A model meant to run on the CPU: set `num_gpu: 0` in its `options` (or `min_vram_ratio: 0`) in `models:`; the diagnosis then treats it as healthy.',
      ],
    },
    {
      name: 'OllamaProbeHung',
      group: 'ollama',
      // Raw probe timeouts cannot tell a hung runner from one saturated by users (a request for a loaded model waits
      // for a free slot without limit), so the alert takes the diagnosis, which compares the runner's progress.
      expr: holds('probe_hung'),
      perTarget: true,
      summary: 'An Ollama model no longer produces tokens: hung runner.',
      description: `The exporter diagnoses a hung runner on Ollama target {{ $labels.target }} (exporter ${where}): the probe gets no token while the runner makes no progress, although the API answers. /api/state names the model.`,
      meaning:
        "The API answers but a model runner does not: the probe waits and the runner does nothing (its CPU time in /proc/<pid>/stat and its GPU activity stay flat for several samples). A runner busy with users' long generations is not hung: Ollama makes a request for a loaded model wait for a free slot (OLLAMA_NUM_PARALLEL) without limit and never answers it 503 (server/sched.go getRunner), so while the runner makes progress the diagnosis says `runner_busy` and this alert stays silent, and a runner seen busy is not probed at all. Where the exporter cannot see the runner processes (no host /proc), two probes in a row without a token still count as hung.",
      steps: [
        'The remediator reloads the model, then kills the runner, then restarts the container if that does not help (remediate="true").',
        'Keep `docker logs <ollama>` from before the restart: CUDA errors there point at the driver or the GPU.',
        'If it fires while users are being served, check that the exporter sees the runner processes (`observation.runners` in its `/api/state`; it needs the host /proc: `pid: host` or `gpu.proc_root`).',
      ],
    },
    {
      name: 'OllamaProbeFailing',
      group: 'ollama',
      // The diagnosis, not the raw `loading` result: a long cold load that makes progress is model_loading, not a failure.
      expr: `${holds('probe_failing')}
unless ${q.on('target')}
${holds('out_of_memory')}`,
      perTarget: true,
      summary: 'Probes of an Ollama model keep failing.',
      description: `Probes on Ollama target {{ $labels.target }} (exporter ${where}) keep failing with an error other than out-of-memory. /api/state names the model and the error.`,
      meaning:
        'Generation fails with an error other than out-of-memory on consecutive probes, or the model cannot be loaded. A cold load that takes long is not a failure: while the runner makes progress the diagnosis says `model_loading` and this alert stays silent (Ollama itself limits a stall, not the total load time); a load with no progress at all is OllamaLoadStalled.',
      steps: [
        "Read the error: `/api/state` of the exporter, `snapshots.probe.probes[].message` and the target's findings.",
        'The remediator reloads the model (remediate="true").',
      ],
    },
    {
      name: 'OllamaLoadStalled',
      group: 'ollama',
      // The stall limit is in the diagnosis (the target's load-stall limit); no extra wait here.
      expr: holds('load_stalled'),
      perTarget: true,
      summary: 'An Ollama model load makes no progress.',
      description: `A model load on Ollama target {{ $labels.target }} (exporter ${where}) has made no progress (runner CPU time, memory, VRAM and file reads all flat) for the target's load-stall limit. /api/state names the model.`,
      meaning:
        "A load is stuck: the loading runner's CPU time, RSS, VRAM and file reads have all stayed flat for the target's load-stall limit (`loadStallLimitSeconds` in /api/state). Like Ollama's own OLLAMA_LOAD_TIMEOUT (llm/llama_server.go WaitUntilRunning moves its deadline on every sign of activity), this limits a stall, not the total load time: a 70B model loading for minutes from a slow disk makes progress and is `model_loading`, which never fires this. Ollama giving up a load itself twice in a row (\"timed out waiting for llama runner to start\", no progress for its OLLAMA_LOAD_TIMEOUT) fires it too.",
      steps: [
        'The remediator restarts the Ollama container (remediate="true").',
        "Look for the cause before it repeats: the models volume (a hung NFS or failing disk stalls reads; `dmesg`), and `docker logs <ollama>` for the load's last lines.",
      ],
    },
    {
      name: 'OllamaRunnerCrashed',
      group: 'ollama',
      expr: holds('runner_crashed'),
      perTarget: true,
      summary: 'An Ollama model runner has died but the model is still listed.',
      description: `/api/ps on Ollama target {{ $labels.target }} (exporter ${where}) lists a model whose runner process is gone, for ${cfg.alerts.OllamaRunnerCrashed.for}: the next request for it waits for a cold load. /api/state names the model.`,
      meaning:
        'A runner process crashed or was killed (OOM killer, driver error) and Ollama keeps listing its model in /api/ps with the old size_vram until keep_alive expires (never, with -1) or the next request for the model finds the runner dead (server/sched.go needsReload pings it) and loads it again, cold. The container and the GPU are fine: a reload is the cure, not a restart.',
      steps: [
        'The remediator reloads the model (remediate="true").',
        'Find out why it died: `docker logs <ollama>` around the crash (CUDA errors, "signal: killed"), `dmesg | grep -i -e oom -e xid` on the host.',
      ],
    },
    {
      name: 'OllamaRunnerBusyTooLong',
      group: 'ollama',
      // Escalation only: a runner spinning forever and one serving a very long generation look the same from outside.
      expr: holds('runner_busy_too_long'),
      perTarget: true,
      summary: 'An Ollama runner has been busy for too long to probe.',
      description: `A runner on Ollama target {{ $labels.target }} (exporter ${where}) has stayed busy beyond the probe's bounded wait: either long generations keep it saturated or it spins without answering. /api/state names the model.`,
      meaning:
        "Probes cannot get through a runner that keeps working (its CPU time or GPU activity rises) for longer than the bounded wait. That is either a saturated runner (users' generations fill every OLLAMA_NUM_PARALLEL slot) or a runner spinning without ever answering; nothing visible from outside tells the two apart, so the product never acts on it: restarting would drop every user's request.",
      steps: [
        'Look at the load: the overview dashboard ("Container CPU vs GPU utilization", "Tokens per second") and `ollama ps`; long generations from clients are normal.',
        "More capacity if it is load: OLLAMA_NUM_PARALLEL (more slots, more VRAM), more GPUs or servers, or limit clients' num_predict.",
        'If no client is being served (no tokens leave the server, `docker logs <ollama>` shows no requests finishing), the runner spins: restart the container by hand.',
      ],
    },
    {
      name: 'OllamaOutOfMemory',
      group: 'ollama',
      expr: `${q.metric('sentinel_ollama_condition', 'condition="out_of_memory"')} == 1`,
      perTarget: true,
      summary: 'Ollama cannot load a model: out of memory.',
      description:
        'Ollama target {{ $labels.target }} (exporter ' +
        where +
        ') answers probes with out-of-memory errors: the model and its context do not fit.',
      meaning:
        'Loading or running a model fails for lack of GPU or system memory. Restarting would only repeat it, so this is not remediated, and the probe does not load that model again for `probe_oom_hold` (default 30 min) unless something else loads it: never a reload into the same out-of-memory (on 0.30+ each such load first evicts every other model, pinned ones included). The finding names the keep_warm models Ollama evicted for it; the probe reloads those. An out-of-memory at run time makes 0.30+ expire every loaded model as well (server/sched.go expireRunnersForRuntimeOOM).',
      steps: [
        'Lower num_ctx, unload other models, quantize the KV cache (OLLAMA_KV_CACHE_TYPE), or add memory.',
        'Once there is room, the probe tries again after the hold; restart the exporter to try at once.',
      ],
    },
    {
      name: 'OllamaKeepWarmEvicted',
      group: 'ollama',
      expr: `${q.metric('sentinel_ollama_condition', 'condition="keep_warm_evicted"')} == 1`,
      perTarget: true,
      summary: 'Two keep_warm Ollama models do not fit on the GPU together.',
      description:
        'On Ollama target {{ $labels.target }} (exporter ' +
        where +
        ') the probe loading one keep_warm model evicted another: they do not fit together, and the evicted one is not reloaded while the other is loaded.',
      meaning:
        'The probe keeps keep_warm models loaded. When its load of one evicted another keep_warm model (Ollama unloads idle models to make room, and 0.30+ evicts every model, pinned ones included, to retry a load that ran out of memory), the two do not fit on this target together. Reloading the evicted one would evict the other, on every probe interval, so the probe stops there and humans decide: this is capacity, not a fault a restart can cure. `/api/state` names both models.',
      steps: [
        'Give the GPU room for both: smaller num_ctx, a quantized KV cache (OLLAMA_KV_CACHE_TYPE), fewer OLLAMA_NUM_PARALLEL slots, a smaller quantization, or another GPU.',
        'Or take one of them off `keep_warm` in `models:` (it then loads on demand), or pin them to different targets with `targets:`.',
        'The evicted model is loaded again by the probe as soon as the other one is unloaded, or at once if anything else loads it.',
      ],
    },
    {
      name: 'OllamaProbeSlow',
      group: 'ollama',
      expr: `${q.metric('sentinel_probe_ttfb_seconds')} > ${t.probeSlowTtfbSeconds}
and ${q.on('target', 'model')}
${q.metric('sentinel_probe_success')} == 1`,
      perTarget: true,
      summary: 'An Ollama model answers slowly.',
      description: `Successful probes of ${model} (exporter ${where}) take {{ $value | humanizeDuration }} to the first token (threshold ${t.probeSlowTtfbSeconds}s) for ${cfg.alerts.OllamaProbeSlow.for}.`,
      meaning:
        'The model works but the first token takes long: queueing behind other requests, partial CPU offload or a slowed-down GPU.',
      steps: [
        'Look at the overview dashboard: VRAM ratio, container CPU vs GPU utilization, and GPU clock event reasons.',
      ],
    },
    {
      name: 'OllamaModelMissing',
      group: 'ollama',
      expr: `max ${q.by('target', 'model')} (
  ${q.metric('sentinel_ollama_model_present')} == 0
  or
  ${q.metric('sentinel_probe_result', 'result="not_found"')} == 1
)`,
      perTarget: true,
      summary: 'A configured Ollama model is not installed.',
      description: `Configured model ${model} (exporter ${where}) is missing from /api/tags or answers 404, for ${cfg.alerts.OllamaModelMissing.for}.`,
      meaning:
        'A model in the configuration is not in the local store: a fresh volume, a deleted model, or an init that failed.',
      steps: [
        'The remediator pulls it (remediate="true"); by hand: `ollama-sentinel init` or `docker exec <ollama> ollama pull <model>`.',
      ],
    },
    {
      name: 'OllamaModelPartialOffload',
      group: 'ollama',
      expr: `(
  ${q.metric('sentinel_ollama_model_vram_ratio')} > 0 < 1
  unless ${q.on('target', 'model')}
  ${q.metric('sentinel_ollama_model_stopping')} == 1
)
and ${q.on('target')}
${q.metric('sentinel_ollama_condition', 'condition="partial_offload"')} == 1`,
      perTarget: true,
      summary: 'An Ollama model is only partly on the GPU.',
      description: `Only {{ $value | humanizePercentage }} of ${model} (exporter ${where}) sits in VRAM, below its min_vram_ratio: the rest runs on the CPU, many times slower.`,
      meaning:
        'Ollama split the model between GPU and CPU because it did not fit. A restart loads it the same way, so this is not remediated.',
      steps: ['Free VRAM (other models, other processes), lower num_ctx, or pick a smaller quantization.'],
    },
    {
      name: 'OllamaOrphanRunners',
      group: 'ollama',
      expr: `${q.metric('sentinel_ollama_gpu_orphan_runners')} > 0`,
      perTarget: true,
      summary: 'Orphaned Ollama runner processes hold GPU memory.',
      description: `{{ $value }} Ollama runner process(es) of target {{ $labels.target }} (exporter ${where}) hold VRAM although no Ollama server owns them any more.`,
      meaning:
        'Runner processes outlived their server (killed parent, removed container) and keep VRAM that new loads need.',
      steps: [
        'The remediator kills them (remediate="true"); by hand: find them with `nvidia-smi --query-compute-apps=pid,used_memory --format=csv` on the host.',
      ],
    },
    {
      name: 'OllamaModelStuckStopping',
      group: 'ollama',
      // Not the raw expires_at: Ollama leaves it in the past while requests run, so a busy model shows "Stopping".
      expr: holds('model_stopping'),
      perTarget: true,
      summary: 'An Ollama model is stuck "Stopping".',
      description: `A model on Ollama target {{ $labels.target }} (exporter ${where}) has been past its expires_at with an idle runner ("Stopping...") for ${cfg.alerts.OllamaModelStuckStopping.for}: the unload does not finish, and requests for it wait. /api/state names the model and for how long.`,
      meaning:
        'The model should have unloaded but did not; it blocks reloads of itself and often other loads. A busy model is not stuck: Ollama does not refresh expires_at while requests run, only when the last one finishes (server/sched.go processCompleted), so `ollama ps` shows a model that serves long requests as "Stopping..." and this alert stays silent; the diagnosis says `model_stopping` only for a model past expires_at whose runner stays idle for a grace period.',
      steps: ['The remediator reloads the model, then restarts the container (remediate="true").'],
    },
    {
      name: 'OllamaServerBusy',
      group: 'ollama',
      expr: `max ${q.by('target')} (${q.metric('sentinel_probe_result', 'result="busy"')}) == 1`,
      perTarget: true,
      summary: 'Ollama rejects requests: queue full.',
      description: `Ollama target {{ $labels.target }} (exporter ${where}) has answered probes with 503 (server busy) for ${cfg.alerts.OllamaServerBusy.for}: it is overloaded, not broken.`,
      meaning:
        'The request queue is full (OLLAMA_MAX_QUEUE). Restarting would drop every queued request, so this is not remediated.',
      steps: ['Add capacity (OLLAMA_NUM_PARALLEL, more GPUs or servers) or rate-limit clients.'],
    },
    {
      name: 'OllamaSlowColdLoad',
      group: 'ollama',
      expr: `max_over_time(${q.metric('sentinel_probe_load_duration_seconds')}[${t.slowColdLoadWindow}]) > ${t.slowColdLoadSeconds}`,
      perTarget: true,
      summary: 'Loading an Ollama model took long.',
      description: `A load of ${model} (exporter ${where}) took {{ $value | humanizeDuration }} within the last ${t.slowColdLoadWindow} (threshold ${t.slowColdLoadSeconds}s).`,
      meaning:
        'A cold load was slow: slow model storage, a model larger than expected, or partial offload. Clients wait that long after every unload or restart.',
      steps: [
        'Keep the model warm (keep_alive -1), put the models volume on faster storage, or pre-load after restarts (`ollama-sentinel init --verify`).',
      ],
    },
    {
      name: 'OllamaFrequentColdLoads',
      group: 'ollama',
      expr: `increase(${q.metric('sentinel_probe_cold_loads_total')}[${t.frequentColdLoadWindow}]) >= ${t.frequentColdLoads}`,
      perTarget: true,
      summary: 'A keep_warm Ollama model keeps getting unloaded.',
      description: `${model} (exporter ${where}) had to be loaded {{ $value | humanize }} times within ${t.frequentColdLoadWindow} although it is configured to stay warm.`,
      meaning:
        'Something unloads the model again and again: a client sending its own keep_alive, other models evicting it (OLLAMA_MAX_LOADED_MODELS), or requests with different options forcing reloads.',
      steps: [
        'Find clients sending keep_alive or other num_ctx/options than the configuration; raise OLLAMA_MAX_LOADED_MODELS if models evict each other.',
      ],
    },
  ];
}
