/** GET (or POST) a JSON document with a short deadline; a non-2xx answer is an error naming the URL and status. */
export async function fetchJson(url: string, init: RequestInit & { readonly timeoutMs?: number } = {}): Promise<unknown> {
  const { timeoutMs = 5000, ...rest } = init;
  const res = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text === '' ? undefined : JSON.parse(text);
}
