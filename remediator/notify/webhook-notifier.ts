import type { Notifier, NotifyEvent } from '../engine/remediation-ports.js';

/** POSTs each event as JSON to the configured URL (chat bridge, pager, ticketing); failures are the caller's to log. */
export function webhookNotifier(url: string, opts: { bearerToken?: string; fetch?: typeof fetch }): Notifier {
  const doFetch = opts.fetch ?? fetch;
  return {
    async send(event: NotifyEvent, signal: AbortSignal): Promise<void> {
      const res = await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(opts.bearerToken ? { authorization: `Bearer ${opts.bearerToken}` } : {}),
        },
        body: JSON.stringify({
          source: 'ollama-sentinel',
          text: `[ollama-sentinel] ${event.event}: ${event.detail}`,
          ...event,
        }),
        signal,
      });
      await res.text();
      if (!res.ok) throw new Error(`notification webhook answered HTTP ${res.status}`);
    },
  };
}
