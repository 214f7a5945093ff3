import { cellNumber, parseQueryCsv } from './parse-query-csv.js';
import { NvidiaSmiError } from './run-nvidia-smi.js';

export interface ComputeApp {
  /** As nvidia-smi prints it, e.g. "GPU-f88d2996-...". */
  readonly gpuUuid: string;
  /** Host PID: the driver is not PID-namespace aware. */
  readonly pid: number;
  /** Full executable path as nvidia-smi prints it (not the command line); may contain spaces and commas. */
  readonly processName: string;
  /** Undefined when nvidia-smi cannot tell ([N/A], e.g. MIG without permission or Windows WDDM). */
  readonly usedMemoryBytes: number | undefined;
  /** NVML only: SM activity of the process over the last sample period, 0-1 (0 = idle); absent when not sampled. */
  readonly smUtilizationRatio?: number;
}

/** The fields, in this order, that queryComputeApps asks for. */
export const COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_gpu_memory'] as const;

/**
 * `--query-compute-apps=<fields> --format=csv[,nounits]` with its header -> processes. `fields` must name
 * gpu_uuid, pid, process_name and used_gpu_memory (any order; aliases such as `name`/`used_memory` accepted).
 * The name is free text from the workload, so it is read outside-in. No process = header only (or nothing).
 */
export function parseComputeApps(stdout: string, fields: readonly string[] = COMPUTE_APPS_FIELDS): ComputeApp[] {
  const canon = (f: string) => (f === 'name' ? 'process_name' : f === 'used_memory' ? 'used_gpu_memory' : f);
  const key = (wanted: string) => {
    const found = fields.find((f) => canon(f) === wanted);
    if (found === undefined)
      throw new NvidiaSmiError('parse', `compute-apps fields lack ${wanted}: ${fields.join(',')}`);
    return found;
  };
  const uuidField = key('gpu_uuid');
  const pidField = key('pid');
  const nameField = key('process_name');
  const memField = key('used_gpu_memory');

  const table = parseQueryCsv(stdout, fields, { freeTextField: nameField });
  const apps: ComputeApp[] = [];
  for (const row of table.rows) {
    const uuid = row.get(uuidField)!;
    const pid = cellNumber(row.get(pidField), undefined);
    // A row without a usable identity cannot be attributed to anything: skip it rather than invent one.
    if (!uuid.ok || pid === undefined || !Number.isInteger(pid) || pid <= 0) continue;
    const name = row.get(nameField)!;
    apps.push({
      gpuUuid: uuid.text,
      pid,
      processName: name.ok ? name.text : '',
      usedMemoryBytes: cellNumber(row.get(memField), table.units.get(memField)),
    });
  }
  return apps;
}
