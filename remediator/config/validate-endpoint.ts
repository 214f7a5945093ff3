/** Why `value` is not an http(s) URL the remediator may call, or undefined when it is fine. */
export function urlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `expected a URL, got ${JSON.stringify(value)}`;
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${value}" is not http or https`;
    if (u.username || u.password) return `"${value}" carries credentials in the URL; use bearer_token_file`;
    return undefined;
  } catch {
    return `"${value}" is not a URL`;
  }
}
