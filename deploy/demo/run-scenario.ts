import { parseArgs } from 'node:util';
import { loadConfig } from '../../shared/config/load-config.js';
import type { ExporterConfig } from '../../exporter/exporter-section.js';
import { ConfigError } from '../../shared/config/config-issues.js';
import { createDockerClient } from '../../shared/docker/create-docker-client.js';
import { exporterSection } from '../../exporter/exporter-section.js';
import { remediatorSection, type RemediatorConfig } from '../../remediator/remediator-section.js';
import { runCpuFallbackScenario } from './cpu-fallback-scenario.js';

const USAGE = `usage: run-scenario.js --config FILE --scenario cpu-fallback --prometheus-url URL [--timeout-s 300]
  Injects the failure into the target's simulator and narrates the chain on stderr; prints PASS or FAIL on stdout
  and exits 0 / 1 (2 = bad usage or configuration). The exporter, remediator data_dir, target, model and Docker
  endpoint come from the config file (and its SENTINEL_* overrides), exactly as the running components read them.`;

/** host:port as the exporter listens -> the URL to reach it on loopback (":9778" = every interface). */
function listenUrl(address: string): string {
  const host = address.slice(0, address.lastIndexOf(':'));
  const port = address.slice(address.lastIndexOf(':') + 1);
  return `http://${host === '' || host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
}

async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string' },
        scenario: { type: 'string' },
        'prometheus-url': { type: 'string' },
        'timeout-s': { type: 'string', default: '300' },
      },
    }));
  } catch (err) {
    process.stderr.write(`run-scenario: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const timeoutS = Number(values['timeout-s']);
  if (!values.config || values.scenario !== 'cpu-fallback' || !values['prometheus-url'] || !(timeoutS > 0)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let cfg;
  try {
    cfg = loadConfig({
      file: values.config,
      flags: new Map(),
      env: process.env,
      sections: [exporterSection, remediatorSection],
      otherSectionKeys: ['init'],
    });
  } catch (err) {
    process.stderr.write(`run-scenario: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    return 2;
  }
  const target = cfg.ollama[0];
  const model = cfg.models.find(
    (m) => m.keep_warm && (m.targets.length === 0 || m.targets.includes(target?.name ?? '')),
  );
  if (!target || !model) {
    process.stderr.write('run-scenario: the config needs an ollama target and a keep_warm model for it\n');
    return 2;
  }
  const exporter = cfg.exporter as ExporterConfig;
  const remediator = cfg.remediator as RemediatorConfig;
  const abort = new AbortController();
  // Ctrl-C during --once: stop waiting and report; run-demo.sh tears everything down.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => abort.abort());
  const result = await runCpuFallbackScenario({
    target,
    model,
    exporterUrl: listenUrl(exporter.listen_address),
    prometheusUrl: values['prometheus-url'].replace(/\/+$/, ''),
    remediatorDataDir: remediator.data_dir,
    docker: createDockerClient(cfg.docker),
    timeoutMs: timeoutS * 1000,
    say: (line) => process.stderr.write(`scenario: ${line}\n`),
    signal: abort.signal,
  });
  const took = `${Math.round(result.elapsedMs / 1000)} s`;
  process.stdout.write(
    result.passed
      ? `PASS: cpu-fallback healed end to end in ${took}\n`
      : `FAIL: cpu-fallback after ${took}: ${result.failure}\n`,
  );
  return result.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`run-scenario: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
