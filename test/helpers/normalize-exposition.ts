/**
 * Makes exposition text comparable across runs: values that depend on timing or the machine become "<v>", PIDs, ports
 * and the hostname in labels become placeholders. Everything else (names, labels, HELP, TYPE, states, sizes) stays
 * exact.
 */
const VOLATILE = [
  /_seconds(_total)?$/,
  /_timestamp_seconds$/,
  /_per_second$/,
  /^sentinel_collector_(runs|skipped_runs)_total$/,
  /^sentinel_probe_runs_total$/,
  // The first probe loads the model: whether its load_duration passes the 1 s cold-load mark depends on how fast this
  // machine spawns the simulator's runner (over 1 s on a loaded CI machine).
  /^sentinel_probe_cold_loads_total$/,
  /^sentinel_ollama_stage_errors_total$/,
];

export function normalizeExposition(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') {
      out.push(line);
      continue;
    }
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/);
    if (!m) {
      out.push(line);
      continue;
    }
    const [, name, rawLabels = '', value] = m as unknown as [string, string, string | undefined, string];
    const labels = rawLabels
      .replace(/nodejs_version="[^"]*"/, 'nodejs_version="<node>"')
      .replace(/revision="[^"]*"/, 'revision="<revision>"')
      .replace(/branch="[^"]*"/, 'branch="<branch>"')
      .replace(/pid="\d+"/, 'pid="<pid>"')
      .replace(/hostname="[^"]*"/, 'hostname="<hostname>"')
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
      .replace(/process_name="[^"]*\/ollama-sim-[^/"]+\//, 'process_name="<simdir>/');
    out.push(`${name}${labels} ${VOLATILE.some((r) => r.test(name)) ? '<v>' : value}`);
  }
  return out.join('\n');
}
