/** dockerode errors carry the HTTP status of the Engine's answer; 404 = no such container (it is gone). */
export function isDockerNotFound(err: unknown): boolean {
  return (err as { statusCode?: number } | null)?.statusCode === 404;
}
