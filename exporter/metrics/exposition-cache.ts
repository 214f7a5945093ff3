import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { Registry, type RegistryContentType } from 'prom-client';

export type ExpositionFormat = 'text' | 'openmetrics';

// On libuv's pool: compressing ~100 kB on the event loop would hold every scrape arriving meanwhile.
const gzipAsync = promisify(gzipCallback);

/** One rendered answer to a scrape: the exact bytes and headers, shared by every scraper until the next change. */
export interface Exposition {
  readonly body: Buffer;
  readonly contentType: string;
  readonly gzip: boolean;
}

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, RegistryContentType>> = {
  text: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

/** Renders the exposition of one format (the whole document as a string) for the current state. */
export type RenderExposition = (format: ExpositionFormat) => Promise<string> | string;

/**
 * The rendered /metrics documents for one state of the exporter, by format and encoding, each rendered on first
 * request and then served as the same Buffer until `key` (what the output depends on) changes. A render in progress
 * is shared too: concurrent scrapers of a new state wait on one render instead of each running their own.
 */
export class ExpositionCache {
  private key: string | undefined;
  private readonly variants = new Map<string, Promise<Exposition>>();

  constructor(private readonly render: RenderExposition) {}

  get(key: string, format: ExpositionFormat, gzip: boolean): Promise<Exposition> {
    if (key !== this.key) {
      this.key = key;
      this.variants.clear();
    }
    const id = `${format}/${gzip ? 'gzip' : 'identity'}`;
    let v = this.variants.get(id);
    if (!v) {
      v = gzip
        ? this.get(key, format, false).then(async (plain) => ({
            ...plain,
            body: await gzipAsync(plain.body),
            gzip: true,
          }))
        : Promise.resolve(this.render(format)).then((text) => ({
            body: Buffer.from(text),
            contentType: CONTENT_TYPES[format],
            gzip,
          }));
      // A failed render is not remembered: the next scrape tries again.
      v.catch(() => {
        if (this.variants.get(id) === v) this.variants.delete(id);
      });
      this.variants.set(id, v);
    }
    return v;
  }
}

/** Media ranges of an Accept-style header with their q values (1 when absent), lower-cased. */
function qualities(header: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [range, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!range) continue;
    const q = params.find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    out.set(range, Number.isFinite(value) ? Math.max(out.get(range) ?? 0, value) : 0);
  }
  return out;
}

/**
 * What a scraper asked for: OpenMetrics when its Accept header prefers application/openmetrics-text (as Prometheus
 * does) over text/plain, else the text format 0.0.4; gzip when Accept-Encoding allows it.
 */
export function negotiate(
  accept: string | undefined,
  acceptEncoding: string | undefined,
): { format: ExpositionFormat; gzip: boolean } {
  const a = qualities(accept);
  const om = a.get('application/openmetrics-text') ?? 0;
  const text = Math.max(a.get('text/plain') ?? 0, a.get('text/*') ?? 0, a.get('*/*') ?? 0);
  const e = qualities(acceptEncoding);
  const gz = e.get('gzip') ?? e.get('*') ?? 0;
  return { format: om > 0 && om >= text ? 'openmetrics' : 'text', gzip: gz > 0 };
}
