import { once } from 'node:events';
import type { CommandDef } from '../shared/cli/command-def.js';
import type { ExporterConfig } from './exporter-section.js';
import { readBuildInfo } from '../shared/version.js';
import { ConfigError, ConfigIssues } from '../shared/config/config-issues.js';
import { checkListenFiles } from '../shared/http/listen-settings.js';
import { startHttpServer } from '../shared/http/start-http-server.js';
import { checkCaFile } from '../shared/http/tls-files.js';
import { readWebConfig } from '../shared/http/web-config.js';
import { exporterSection } from './exporter-section.js';
import { createExporter } from './create-exporter.js';

export const command: CommandDef = {
  name: 'exporter',
  summary: 'Prometheus exporter: GPU, GPU processes by container, Ollama health, inference probe, container resources.',
  description: `Collects every source in the background on its own interval (never on the scrape path) and serves
the latest snapshots at the telemetry path, the state with a diagnosis per Ollama target at /api/state,
liveness at /healthz and readiness (every collector tried once) at /readyz.
Exit codes: 0 clean shutdown (SIGTERM/SIGINT), 1 runtime failure, 2 bad usage or configuration.`,
  sections: [exporterSection],
  options: {},
  flagAliases: { 'web.config.file': 'exporter.web_config_file' },
  async run(ctx) {
    const cfg = ctx.config.exporter as ExporterConfig;
    // The files it reads are configuration: every problem is listed (exit 2 from runCli) before anything starts.
    const issues = new ConfigIssues();
    checkListenFiles('exporter', cfg, issues);
    const web = cfg.web_config_file === undefined ? undefined : readWebConfig(cfg.web_config_file, issues);
    for (const [i, t] of ctx.config.ollama.entries())
      if (t.ca_file) checkCaFile(`ollama[${i}].ca_file`, t.ca_file, issues);
    if (!issues.empty) throw new ConfigError(issues.list, 'checked before starting');
    const exporter = createExporter(ctx.config, readBuildInfo(ctx.env), ctx.log, { web });
    exporter.scheduler.start();
    const server = await startHttpServer(cfg, exporter.app, ctx.log, { web });
    if (server.tls) exporter.watchTls(server.tls);
    ctx.stderr.write(
      `ollama-sentinel exporter listening on ${server.url} (metrics at ${server.url}${cfg.telemetry_path})\n`,
    );
    if (!ctx.shutdown.aborted) await once(ctx.shutdown, 'abort');
    await server.close();
    await exporter.scheduler.stop();
    ctx.log.info('exporter stopped');
    return 0;
  },
};
