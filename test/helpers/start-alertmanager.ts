import { startHttpDaemon, type HttpDaemonHandle } from './start-http-daemon.js';

export interface StartAlertmanagerOptions {
  /** alertmanager.yml (YAML text or object). */
  config: string | Record<string, unknown>;
  /** Templates and other files for the config's folder, by name. */
  files?: Record<string, string | Record<string, unknown>>;
  extraArgs?: string[];
  /** Default `prometheus-alertmanager` (Debian's name for alertmanager) on PATH. */
  binary?: string;
  parentDir?: string;
  readyTimeoutMs?: number;
}

/**
 * Starts Alertmanager as a plain process on a free 127.0.0.1 port with its own folder (removed by
 * stop()). Clustering is off (`--cluster.listen-address=`): it would bind 0.0.0.0:9094 and gossip.
 */
export async function startAlertmanager(options: StartAlertmanagerOptions): Promise<HttpDaemonHandle> {
  return startHttpDaemon({
    name: 'alertmanager',
    binary: options.binary ?? 'prometheus-alertmanager',
    config: options.config,
    configName: 'alertmanager.yml',
    files: options.files,
    parentDir: options.parentDir,
    readyTimeoutMs: options.readyTimeoutMs,
    readyPath: '/-/ready',
    args: (port, dir, configPath) => [
      `--config.file=${configPath}`,
      `--storage.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
      ...(options.extraArgs ?? []),
    ],
  });
}
