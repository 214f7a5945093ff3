import { startHttpDaemon, type HttpDaemonHandle } from './start-http-daemon.js';

export interface StartPrometheusOptions {
  /** prometheus.yml (YAML text or object). `rule_files` names are relative to its folder, see `files`. */
  config: string | Record<string, unknown>;
  /** Rule files and other files for the config's folder, by name. */
  files?: Record<string, string | Record<string, unknown>>;
  /**
   * --rules.alert.resend-delay; default 1s. Prometheus' 1m default delays the first notification
   * by up to a minute when the Alertmanager is discovered after the alert started firing.
   */
  resendDelay?: string;
  extraArgs?: string[];
  /** Default `prometheus` on PATH. */
  binary?: string;
  parentDir?: string;
  readyTimeoutMs?: number;
}

/**
 * Starts Prometheus as a plain process on a free 127.0.0.1 port with its own config/data folder
 * (removed by stop()). The lifecycle API is on, so `reload()` applies rewritten files.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<HttpDaemonHandle> {
  return startHttpDaemon({
    name: 'prometheus',
    binary: options.binary ?? 'prometheus',
    config: options.config,
    configName: 'prometheus.yml',
    files: options.files,
    parentDir: options.parentDir,
    readyTimeoutMs: options.readyTimeoutMs,
    readyPath: '/-/ready',
    args: (port, dir, configPath) => [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--rules.alert.resend-delay=${options.resendDelay ?? '1s'}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
      ...(options.extraArgs ?? []),
    ],
  });
}
