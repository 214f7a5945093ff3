import { isRecord } from '../../shared/config/yaml-shapes.js';
import type { TargetObservation } from '../../shared/diagnosis/target-observation.js';

/**
 * Pure: the observation of `target` in the exporter's /api/state document, or why it cannot be used. Only the
 * shape the diagnosis reads is checked; a partial observation from an older exporter is completed with "unknown".
 */
export function readExporterObservation(
  doc: unknown,
  target: string,
): { observation: TargetObservation } | { problem: string } {
  if (!isRecord(doc) || !isRecord(doc.targets)) return { problem: 'the exporter state has no "targets" object' };
  const entry = Object.hasOwn(doc.targets, target) ? doc.targets[target] : undefined;
  if (!isRecord(entry) || !isRecord(entry.observation))
    return { problem: `the exporter state has no observation of target "${target}"` };
  const o = entry.observation;
  const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
  const nullable = <T>(v: unknown, check: (x: unknown) => boolean): T | null =>
    v !== undefined && v !== null && check(v) ? (v as T) : null;
  return {
    observation: {
      target,
      observedAtMs: nullable<number>(o.observedAtMs, (x) => typeof x === 'number'),
      version: nullable<string>(o.version, (x) => typeof x === 'string'),
      apiUp: nullable<boolean>(o.apiUp, (x) => typeof x === 'boolean'),
      psOk: nullable<boolean>(o.psOk, (x) => typeof x === 'boolean'),
      psFailure: nullable<string>(o.psFailure, (x) => typeof x === 'string'),
      loaded: list(o.loaded),
      configured: list(o.configured),
      probes: list(o.probes),
      gpuMemoryBytes: nullable<number>(o.gpuMemoryBytes, (x) => typeof x === 'number'),
      orphanRunners: nullable(o.orphanRunners, Array.isArray),
      runners: nullable(o.runners, Array.isArray),
      discoveryPids: nullable(o.discoveryPids, Array.isArray),
      loadStallLimitSeconds: typeof o.loadStallLimitSeconds === 'number' ? o.loadStallLimitSeconds : 300,
      gpus: nullable(o.gpus, Array.isArray),
      gpuCollectorError: nullable<string>(o.gpuCollectorError, (x) => typeof x === 'string'),
      containerGpuAccess: nullable<boolean>(o.containerGpuAccess, (x) => typeof x === 'boolean'),
    },
  };
}

/** What is known without the exporter: nothing about Ollama (the diagnosis then waits unless the GPU is gone). */
export function blankObservation(target: string): TargetObservation {
  return {
    target,
    observedAtMs: null,
    version: null,
    apiUp: null,
    psOk: null,
    psFailure: null,
    loaded: [],
    configured: [],
    probes: [],
    gpuMemoryBytes: null,
    orphanRunners: null,
    runners: null,
    discoveryPids: null,
    loadStallLimitSeconds: 300,
    gpus: null,
    gpuCollectorError: null,
    containerGpuAccess: null,
  };
}
