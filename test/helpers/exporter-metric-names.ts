import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from './repo-path.js';

/**
 * Every series name the exporter can publish: the golden /metrics file (test/fixtures/golden/exporter-metrics.txt,
 * what a real scrape of the exporter against the simulators returns) plus the literal names passed to the metric
 * sink in exporter/ sources, because the golden scrape cannot show series that only appear in failure states
 * (errors_total, stuck_since, lost GPUs' companions) or from collectors it does not enable.
 */
export function exporterMetricNames(): ReadonlySet<string> {
  const names = new Set<string>();
  const golden = repoPath('test/fixtures/golden/exporter-metrics.txt');
  if (existsSync(golden)) {
    for (const line of readFileSync(golden, 'utf8').split('\n')) {
      const m = line.match(/^# TYPE (\S+) /) ?? line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/);
      if (m) names.add(m[1]!);
    }
  }
  for (const file of tsFiles(repoPath('exporter'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/['"](sentinel_[a-z0-9_]+)['"]/g)) names.add(m[1]!);
  }
  return names;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}
