import type { SilenceRequest, Silencer } from '../engine/remediation-ports.js';

/**
 * Alertmanager API v2 silences (0.25+): POST /api/v2/silences creates one and returns its id,
 * DELETE /api/v2/silence/{id} expires it. Label values are sent as JSON data, never interpreted.
 */
export function alertmanagerSilencer(
  baseUrl: string,
  opts: { bearerToken?: string; now: () => number; fetch?: typeof fetch },
): Silencer {
  const doFetch = opts.fetch ?? fetch;
  const headers = {
    'content-type': 'application/json',
    ...(opts.bearerToken ? { authorization: `Bearer ${opts.bearerToken}` } : {}),
  };
  return {
    async create(req: SilenceRequest, signal: AbortSignal): Promise<string> {
      const body = {
        matchers: req.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: false, isEqual: true })),
        startsAt: new Date(opts.now()).toISOString(),
        endsAt: new Date(req.endsAt).toISOString(),
        createdBy: 'ollama-sentinel remediator',
        comment: req.comment,
      };
      const res = await doFetch(`${baseUrl}/api/v2/silences`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal,
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`Alertmanager refused the silence: HTTP ${res.status} ${text.slice(0, 200)}`);
      const id = (JSON.parse(text) as { silenceID?: unknown }).silenceID;
      if (typeof id !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(id))
        throw new Error(`Alertmanager answered without a silence id: ${text.slice(0, 200)}`);
      return id;
    },
    async remove(id: string, signal: AbortSignal): Promise<void> {
      const res = await doFetch(`${baseUrl}/api/v2/silence/${encodeURIComponent(id)}`, {
        method: 'DELETE',
        headers,
        signal,
      });
      await res.text();
      // 404: already expired or deleted by someone else; either way it is gone.
      if (!res.ok && res.status !== 404)
        throw new Error(`Alertmanager did not delete silence ${id}: HTTP ${res.status}`);
    },
  };
}
