import type { Logger } from 'pino';
import type { GpuConfig } from '../../shared/config/types.js';
import { CollectError, type Collector, type CollectContext, type MetricSink } from '../collector.js';
import { createFieldCheck } from '../../shared/gpu/create-field-check.js';
import { CLOCK_EVENT_REASON_BITS, type ClockEventReason } from '../../shared/gpu/decode-clock-event-reasons.js';
import { GPU_QUERY_FIELDS, REQUIRED_GPU_FIELDS } from '../../shared/gpu/gpu-query-fields.js';
import { normalizeBusId, parseDeviceError, type DeviceError } from '../../shared/gpu/parse-device-error.js';
import type { FieldCatalog } from '../../shared/gpu/parse-help-query.js';
import { parseQueryCsv, type QueryTable } from '../../shared/gpu/parse-query-csv.js';
import { nvmlReason } from '../../shared/gpu/nvml-client.js';
import {
  classifyNvidiaSmiFailure,
  NvidiaSmiError,
  nvidiaSmiFailure,
  runNvidiaSmi,
  type RunNvidiaSmi,
} from '../../shared/gpu/run-nvidia-smi.js';
import { toGpuReadings, type GpuReading } from '../../shared/gpu/to-gpu-readings.js';
import { nvmlTimeoutMs, preferNvml, type ActiveGpuBackend, type NvmlBackend } from '../../shared/gpu/nvml-backend.js';
import type { NvmlSample } from '../../shared/gpu/nvml-protocol.js';

export interface GpuSnapshot {
  /** GPUs that answered, in nvidia-smi's order. */
  readonly gpus: readonly GpuReading[];
  /** Every GPU this process has seen answer, by uuid: true when it does not answer now (lost, unreachable, gone). */
  readonly lost: ReadonlyMap<string, boolean>;
  /** GPUs nvidia-smi could not open whose uuid was never seen (lost before the exporter's first collection). */
  readonly unidentifiedUnreachable: number;
  /** Exit code of the query (NVML: return code of the first GPU that did not answer): non-zero = some GPU did not. */
  readonly exitCode: number;
  /** How this snapshot was read. */
  readonly backend: ActiveGpuBackend;
  /** Since when an NVML call has hung (ms): GPUs are read with nvidia-smi meanwhile. */
  readonly nvmlStuckSinceMs: number | null;
}

export interface GpuCollectorDeps {
  readonly log: Logger;
  /** Injected by tests; the real runner spawns nvidia-smi. */
  readonly run?: RunNvidiaSmi;
  /** The NVML backend (gpu.backend auto or nvml); absent: nvidia-smi only. */
  readonly nvml?: NvmlBackend;
}

// Exit reasons after which the rows nvidia-smi did print are still data: one GPU failing spoils no other.
const PARTIAL_REASONS = new Set(['gpu_lost', 'device_unreachable', 'no_devices', 'not_found']);

/**
 * The GPU collector: one `nvidia-smi --query-gpu=<checked fields> --format=csv,nounits` per collection, rendered
 * into base-unit gauges per GPU (`uuid` label as nvidia-smi prints it, with the `GPU-` prefix). A GPU that
 * answered once and is now lost stays visible as `sentinel_gpu_lost{uuid} 1` instead of silently vanishing.
 */
export function createGpuCollector(cfg: GpuConfig, deps: GpuCollectorDeps): Collector<GpuSnapshot> {
  const run = deps.run ?? runNvidiaSmi;
  const log = deps.log;
  const fieldCheck = createFieldCheck({
    command: cfg.nvidia_smi,
    wanted: GPU_QUERY_FIELDS,
    required: REQUIRED_GPU_FIELDS,
    timeoutMs: cfg.timeout_ms,
    run,
    log,
  });
  // uuid -> normalized PCI bus id of every GPU seen answering: error lines name bus ids, series need uuids.
  const known = new Map<string, string>();
  // NVML names an unreachable GPU by index only: remember where each index was seen.
  const busByIndex = new Map<number, string>();

  async function collect(ctx: CollectContext): Promise<GpuSnapshot> {
    try {
      const { value, backend } = await preferNvml(
        deps.nvml,
        log,
        async (client) => fromNvml(await client.sample(nvmlTimeoutMs(deps.nvml!, cfg.timeout_ms))),
        () => viaNvidiaSmi(ctx),
      );
      return { ...value, backend, nvmlStuckSinceMs: deps.nvml?.client.stuckSinceMs() ?? null };
    } catch (err) {
      if (err instanceof NvidiaSmiError) throw new CollectError(err.reason, err.message, { cause: err });
      throw err;
    }
  }

  function fromNvml(s: NvmlSample): SnapshotData {
    for (const g of s.gpus) if (g.index !== undefined && g.pciBusId !== undefined) busByIndex.set(g.index, g.pciBusId);
    const unreachable = s.unreachable.map((u): DeviceError => ({
      pciBusId: busByIndex.get(u.index) ?? `nvml-index-${u.index}`,
      message: `NVML return code ${u.code}`,
      lost: u.code === 15,
    }));
    const exitCode = s.unreachable[0]?.code ?? 0;
    if (s.gpus.length === 0 && known.size === 0 && exitCode !== 0)
      throw new NvidiaSmiError(nvmlReason(exitCode), `NVML: no GPU answered (return code ${exitCode})`);
    return snapshot(s.gpus, unreachable, exitCode);
  }

  async function viaNvidiaSmi(ctx: CollectContext): Promise<SnapshotData> {
    const checked = await fieldCheck.resolve(ctx.signal);
    const query = `--query-gpu=${checked.fields.join(',')}`;
    const result = await run(cfg.nvidia_smi, [query, '--format=csv,nounits'], {
      signal: ctx.signal,
      timeoutMs: cfg.timeout_ms,
    });
    let table: QueryTable;
    if (result.exitCode === 0) {
      table = parseQueryCsv(result.stdout, checked.fields, { catalog: checked.catalog, freeTextField: 'name' });
    } else {
      const reason = classifyNvidiaSmiFailure(result.exitCode, `${result.stdout}\n${result.stderr}`);
      // A driver upgrade can remove a field: check again next time instead of failing forever.
      if (reason === 'bad_field') fieldCheck.reset();
      if (!PARTIAL_REASONS.has(reason)) throw nvidiaSmiFailure(result, '--query-gpu');
      table = lenientTable(result.stdout, checked.fields, checked.catalog);
      log.warn(
        { exitCode: result.exitCode, reason, output: clip(result.stdout) },
        'nvidia-smi: some GPUs did not answer',
      );
      if (table.rows.length === 0 && known.size === 0) throw nvidiaSmiFailure(result, '--query-gpu');
    }
    const stderrErrors = result.stderr
      .split('\n')
      .map(parseDeviceError)
      .filter((e): e is DeviceError => !!e);
    if (table.otherLines.length > 0)
      log.debug({ lines: table.otherLines }, 'nvidia-smi printed lines that are not rows');
    const { gpus, unreachable } = toGpuReadings(table);
    return snapshot(gpus, [...unreachable, ...stderrErrors], result.exitCode);
  }

  function snapshot(gpus: readonly GpuReading[], errors: readonly DeviceError[], exitCode: number): SnapshotData {
    for (const g of gpus) if (g.pciBusId !== undefined) known.set(g.uuid, normalizeBusId(g.pciBusId));
    for (const g of gpus) if (!known.has(g.uuid)) known.set(g.uuid, '');
    const byBus = new Map([...known].map(([uuid, bus]) => [bus, uuid]));
    const answering = new Set(gpus.filter((g) => !g.lost).map((g) => g.uuid));
    let unidentified = 0;
    for (const e of errors) {
      const uuid = byBus.get(normalizeBusId(e.pciBusId));
      if (uuid === undefined) {
        unidentified++;
        log.warn({ pciBusId: e.pciBusId, message: e.message }, 'nvidia-smi cannot open a GPU never seen before');
      }
    }
    const lost = new Map<string, boolean>();
    for (const uuid of known.keys()) lost.set(uuid, !answering.has(uuid));
    return { gpus: gpus.filter((g) => !g.lost), lost, unidentifiedUnreachable: unidentified, exitCode };
  }

  return {
    name: 'gpu',
    intervalMs: cfg.interval_ms,
    timeoutMs: cfg.timeout_ms,
    collect,
    render: renderGpuSnapshot,
  };
}

/** Rows and error lines of a failed run; output that is not a table at all ("No devices were found") = no rows. */
type SnapshotData = Omit<GpuSnapshot, 'backend' | 'nvmlStuckSinceMs'>;

function lenientTable(stdout: string, fields: readonly string[], catalog: FieldCatalog): QueryTable {
  try {
    return parseQueryCsv(stdout, fields, { catalog, freeTextField: 'name' });
  } catch {
    const deviceErrors = stdout
      .split('\n')
      .map(parseDeviceError)
      .filter((e): e is DeviceError => !!e);
    return { fields, units: new Map(), rows: [], deviceErrors, otherLines: [] };
  }
}

function clip(s: string): string {
  return s.length > 500 ? `${s.slice(0, 500)}...` : s;
}

const REASONS = Object.keys(CLOCK_EVENT_REASON_BITS) as ClockEventReason[];

/** Pure: the latest good snapshot -> series. Absent readings are omitted, never written as a sentinel value. */
export function renderGpuSnapshot(s: GpuSnapshot, sink: MetricSink): void {
  sink.gauge(
    'sentinel_gpu_backend_info',
    'How GPUs were last read: backend="nvml" (in-process) or "nvidia_smi" (spawned); always 1.',
    { backend: s.backend },
    1,
  );
  if (s.nvmlStuckSinceMs !== null) {
    sink.gauge(
      'sentinel_gpu_nvml_stuck_since_timestamp_seconds',
      'Unix time since when an NVML call has not returned (hung in the driver); nvidia-smi is used meanwhile.',
      {},
      s.nvmlStuckSinceMs / 1000,
    );
  }
  sink.gauge('sentinel_gpus', 'Number of GPUs that answered nvidia-smi in the last collection.', {}, s.gpus.length);
  sink.gauge(
    'sentinel_gpu_nvidia_smi_exit_code',
    'Exit code of the last nvidia-smi --query-gpu run that produced data (under NVML, the return code of the first GPU that did not answer); non-zero means some GPU did not answer.',
    {},
    s.exitCode,
  );
  for (const [uuid, isLost] of s.lost) {
    sink.gauge(
      'sentinel_gpu_lost',
      'Whether a GPU this exporter has seen answer no longer answers nvidia-smi (GPU is lost, fell off the bus, device handle error or missing); kept until the exporter restarts.',
      { uuid },
      isLost ? 1 : 0,
    );
  }
  sink.gauge(
    'sentinel_gpu_unidentified_unreachable',
    'GPUs nvidia-smi cannot open that never answered since the exporter started, so their uuid is unknown (bus ids are in the log).',
    {},
    s.unidentifiedUnreachable,
  );

  for (const g of s.gpus) {
    const l = { uuid: g.uuid };
    sink.gauge(
      'sentinel_gpu_info',
      'GPU identity from nvidia-smi; always 1. Join on uuid to add index or name to other series.',
      {
        uuid: g.uuid,
        index: g.index === undefined ? '' : String(g.index),
        name: g.name ?? '',
        pci_bus_id: g.pciBusId ?? '',
        driver_version: g.driverVersion ?? '',
        vbios_version: g.vbiosVersion ?? '',
      },
      1,
    );
    const put = (name: string, help: string, value: number | undefined, labels: Record<string, string> = l) => {
      if (value !== undefined) sink.gauge(name, help, labels, value);
    };
    put('sentinel_gpu_memory_total_bytes', 'Total GPU memory (memory.total).', g.memoryTotalBytes);
    put('sentinel_gpu_memory_used_bytes', 'GPU memory allocated by contexts (memory.used).', g.memoryUsedBytes);
    put('sentinel_gpu_memory_free_bytes', 'Free GPU memory (memory.free).', g.memoryFreeBytes);
    put(
      'sentinel_gpu_memory_reserved_bytes',
      'GPU memory reserved by the driver and firmware (memory.reserved).',
      g.memoryReservedBytes,
    );
    put(
      'sentinel_gpu_utilization_ratio',
      'Fraction of the last sample period a kernel ran on the GPU (utilization.gpu), 0-1.',
      g.utilizationRatio,
    );
    put(
      'sentinel_gpu_memory_utilization_ratio',
      'Fraction of the last sample period device memory was read or written (utilization.memory), 0-1.',
      g.memoryUtilizationRatio,
    );
    put('sentinel_gpu_temperature_celsius', 'GPU core temperature (temperature.gpu).', g.temperatureCelsius);
    put(
      'sentinel_gpu_memory_temperature_celsius',
      'GPU memory (HBM) temperature (temperature.memory).',
      g.memoryTemperatureCelsius,
    );
    put('sentinel_gpu_power_draw_watts', 'Power drawn by the board (power.draw).', g.powerDrawWatts);
    put(
      'sentinel_gpu_power_limit_watts',
      'Power limit in force (enforced.power.limit, else power.limit).',
      g.powerLimitWatts,
    );
    put('sentinel_gpu_clock_sm_hertz', 'Current SM clock (clocks.sm).', g.clockSmHertz);
    put('sentinel_gpu_clock_memory_hertz', 'Current memory clock (clocks.mem).', g.clockMemoryHertz);
    put('sentinel_gpu_clock_sm_max_hertz', 'Maximum SM clock (clocks.max.sm).', g.clockSmMaxHertz);
    put(
      'sentinel_gpu_fan_speed_ratio',
      'Intended fan speed as a fraction of maximum (fan.speed); absent on fanless data-centre cards.',
      g.fanSpeedRatio,
    );
    put('sentinel_gpu_pstate', 'Performance state: 0 (P0, maximum performance) to 15 (minimum).', g.pstate);
    const ecc =
      'Uncorrected ECC errors since driver load (counter="volatile") or over the board lifetime (counter="aggregate"); a gauge because the volatile count resets on driver reload.';
    put('sentinel_gpu_ecc_uncorrected_errors', ecc, g.eccUncorrectedVolatile, { uuid: g.uuid, counter: 'volatile' });
    put('sentinel_gpu_ecc_uncorrected_errors', ecc, g.eccUncorrectedAggregate, { uuid: g.uuid, counter: 'aggregate' });
    put('sentinel_gpu_mig_mode_enabled', 'Whether MIG mode is currently enabled (mig.mode.current).', g.migModeEnabled);
    put(
      'sentinel_gpu_persistence_mode_enabled',
      'Whether persistence mode is enabled (persistence_mode).',
      g.persistenceModeEnabled,
    );
    if (g.computeMode !== undefined) {
      sink.gauge(
        'sentinel_gpu_compute_mode',
        'Current compute mode (compute_mode) as a label; always 1.',
        { uuid: g.uuid, mode: g.computeMode },
        1,
      );
    }
    if (g.clockEventReasons !== undefined) {
      for (const reason of REASONS) {
        sink.gauge(
          'sentinel_gpu_clock_event_reason_active',
          'Whether an NVML clocks event reason (throttling cause) is active, decoded from clocks_event_reasons.active.',
          { uuid: g.uuid, reason },
          g.clockEventReasons[reason] ? 1 : 0,
        );
      }
    }
  }
}
