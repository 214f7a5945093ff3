/** Environment variable for a config path: gpu.interval -> SENTINEL_GPU_INTERVAL. */
export function envNameFor(path: string): string {
  return `SENTINEL_${path.replace(/[.-]/g, '_').toUpperCase()}`;
}

/** Flag for a config path: exporter.listen_address -> --exporter.listen-address. */
export function flagNameFor(path: string): string {
  return `--${path.replace(/_/g, '-')}`;
}
