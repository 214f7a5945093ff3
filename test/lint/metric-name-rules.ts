/**
 * The project's own naming lint, on top of `promtool check metrics` (which does not check units):
 * every series is `sentinel_*`, counters end in `_total`, everything else ends in a base-unit suffix unless it is
 * listed below with the reason it is dimensionless. Adding a name here is a reviewed decision, not a workaround.
 */
export const UNIT_SUFFIXES = [
  '_bytes',
  '_seconds',
  '_ratio',
  '_celsius',
  '_watts',
  '_hertz',
  '_joules',
  '_info',
  '_per_second',
] as const;

export const DIMENSIONLESS: Readonly<Record<string, string>> = {
  sentinel_collector_success: '0/1 state',
  sentinel_gpus: 'a count of GPUs',
  sentinel_gpu_lost: '0/1 state',
  sentinel_gpu_unidentified_unreachable: 'a count of GPUs',
  sentinel_gpu_pstate: 'NVML performance state number 0-15',
  sentinel_gpu_nvidia_smi_exit_code: 'a process exit code',
  sentinel_gpu_ecc_uncorrected_errors: 'a count of errors that resets on driver reload (so not a counter)',
  sentinel_gpu_clock_event_reason_active: '0/1 state per reason',
  sentinel_gpu_compute_mode: 'enum as label, value 1',
  sentinel_gpu_mig_mode_enabled: '0/1 state',
  sentinel_gpu_persistence_mode_enabled: '0/1 state',
  sentinel_gpu_processes: 'a count of processes',
  sentinel_gpu_processes_dropped: 'a count of processes not published because of the cap',
  sentinel_ollama_up: '0/1 state',
  sentinel_ollama_stage_success: '0/1 state',
  sentinel_ollama_condition: '0/1 state per diagnosis condition',
  sentinel_ollama_model_loaded: '0/1 state',
  sentinel_ollama_model_present: '0/1 state',
  sentinel_ollama_model_stopping: '0/1 state',
  sentinel_ollama_model_context_length: 'a number of tokens',
  sentinel_ollama_models_available: 'a count of models',
  sentinel_ollama_models_loaded: 'a count of models',
  sentinel_ollama_gpu_processes: 'a count of processes',
  sentinel_ollama_runners: 'a count of processes',
  sentinel_ollama_discovery_processes: 'a count of processes',
  sentinel_ollama_container_running: '0/1 state',
  sentinel_ollama_containers: 'a count of containers',
  sentinel_probe_success: '0/1 state',
  sentinel_probe_result: '0/1 state per outcome',
  sentinel_probe_consecutive_failures: 'a count of probes',
  sentinel_remediator_actions_in_flight: 'a count of steps running',
  sentinel_remediator_breaker_open: '0/1 state',
  sentinel_remediator_incidents_open: 'a count of incidents',
  sentinel_remediator_incidents_deferred: 'a count of incidents',
  sentinel_remediator_tls_reload_success: '0/1 state',
  sentinel_exporter_tls_reload_success: '0/1 state',
};

export interface NameProblem {
  readonly name: string;
  readonly problem: string;
}

/** Checks the `# TYPE` lines of an exposition text. */
export function checkMetricNames(exposition: string, allowPrefixes: readonly string[] = []): NameProblem[] {
  const problems: NameProblem[] = [];
  for (const line of exposition.split('\n')) {
    const m = line.match(/^# TYPE (\S+) (\S+)$/);
    if (!m) continue;
    const [, name, type] = m as unknown as [string, string, string];
    if (allowPrefixes.some((p) => name.startsWith(p))) continue;
    if (!name.startsWith('sentinel_')) problems.push({ name, problem: 'does not start with sentinel_' });
    if (type === 'counter') {
      if (!name.endsWith('_total')) problems.push({ name, problem: 'counter without _total' });
      continue;
    }
    if (name.endsWith('_total')) problems.push({ name, problem: `${type} must not end in _total` });
    if (!UNIT_SUFFIXES.some((s) => name.endsWith(s)) && !(name in DIMENSIONLESS)) {
      problems.push({
        name,
        problem: `no unit suffix (${UNIT_SUFFIXES.join(' ')}) and not in the documented DIMENSIONLESS list`,
      });
    }
    if (/_(milli|kilo|mega|giga)|_mib$|_mb$|_percent$|_ms$/.test(name))
      problems.push({ name, problem: 'not in base units' });
  }
  return problems;
}
