/** One line for an error in `detail`: dockerode puts the daemon's message in `json.message`. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const json = (err as { json?: { message?: unknown } }).json;
    const daemon = json && typeof json.message === 'string' ? json.message : undefined;
    const status = (err as { statusCode?: unknown }).statusCode;
    if (daemon) return typeof status === 'number' ? `HTTP ${status}: ${daemon}` : daemon;
    return err.message.split('\n')[0]!;
  }
  return String(err);
}
