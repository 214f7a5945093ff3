import express from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { Registry, collectDefaultMetrics, type RegistryContentType } from 'prom-client';
import type { ExporterConfig } from './exporter-section.js';
import { readSecretFile } from '../shared/http/secret-files.js';
import { checkBasicAuth, readBasicAuth, requireBasicAuth, requireBcryptUsers } from '../shared/http/basic-auth.js';
import type { BcryptUsers } from '../shared/http/bcrypt-users.js';
import type { CollectorScheduler } from './collector-scheduler.js';
import { FRESH_WAIT_DEFAULT_MS, FRESH_WAIT_MAX_MS } from './fresh-state.js';
import { PromSink } from './metrics/prom-sink.js';
import type { MetricSink } from './collector.js';
import { ExpositionCache, negotiate, type Exposition, type ExpositionFormat } from './metrics/exposition-cache.js';

export interface ExporterAppDeps {
  readonly scheduler: CollectorScheduler;
  readonly version: string;
  /** The commit and branch built ("unknown" when not known). */
  readonly revision?: string;
  readonly branch?: string;
  /** The JSON state document (latest snapshots and a diagnosis per target). */
  readonly state: () => unknown;
  /**
   * The same document with one target collected now (GET /api/state?target=NAME&fresh=1[&wait_ms=N]); null for an
   * unknown target (404).
   */
  readonly freshState?: (target: string, waitMs: number) => Promise<unknown>;
  /** Series derived from the snapshots at scrape time (the diagnosis). */
  readonly extraSeries?: (sink: MetricSink) => void;
  /** The web config's basic_auth_users (none configured: no basic auth from it). */
  readonly users?: BcryptUsers;
  /** What extraSeries depends on besides the scheduler's snapshots (e.g. the TLS reload status). */
  readonly extraKey?: () => string;
}

/** The exporter's HTTP surface: landing page, /metrics, /api/state, /healthz (/-/healthy), /readyz (/-/ready). */
export function createExporterApp(cfg: ExporterConfig, deps: ExporterAppDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  // Node's own series change on every scrape: rendered per scrape and appended, in the format asked for.
  const defaults = cfg.node_metrics ? nodeRegistries() : undefined;
  let scrapesInFlight = 0;
  const cache = new ExpositionCache(async (format) => {
    const sink = new PromSink();
    sink.gauge(
      'sentinel_build_info',
      'ollama-sentinel build: version, revision (commit), branch and the Node.js it runs on.',
      {
        version: deps.version,
        revision: deps.revision ?? 'unknown',
        branch: deps.branch ?? 'unknown',
        nodejs_version: process.version,
      },
      1,
    );
    deps.scheduler.render(sink);
    deps.extraSeries?.(sink);
    return sink.render(format);
  });

  /** GET/HEAD of the metrics path, with Node's own request and response only: the fast path below calls it too. */
  const serveMetrics = (req: IncomingMessage, res: ServerResponse): void => {
    const plain = (status: number, text: string): void => {
      res.statusCode = status;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(text);
    };
    if (scrapesInFlight >= cfg.max_concurrent_scrapes) {
      plain(503, `too many concurrent scrapes (limit ${cfg.max_concurrent_scrapes}); retry later\n`);
      return;
    }
    // In flight until the response is written out or the connection closes, not merely until it is rendered:
    // a slow reader holds its slot (and its buffered body) for as long as it takes.
    scrapesInFlight++;
    res.once('close', () => scrapesInFlight--);
    const { format, gzip } = negotiate(req.headers.accept, req.headers['accept-encoding']);
    const key = `${deps.scheduler.renderKey()}|${deps.extraKey?.() ?? ''}`;
    void (async () => {
      let out = await cache.get(key, format, gzip && !defaults);
      if (defaults) out = await withNodeMetrics(out, defaults[format], format, gzip);
      res.statusCode = 200;
      res.setHeader('Content-Type', out.contentType);
      res.setHeader('Vary', 'Accept, Accept-Encoding');
      if (out.gzip) res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Content-Length', out.body.length);
      res.end(out.body);
    })().catch((err: unknown) => {
      if (!res.headersSent) plain(500, `rendering metrics failed: ${String(err)}\n`);
      else res.destroy();
    });
  };

  // /-/healthy and /-/ready: the paths Prometheus, Alertmanager and the exporter-toolkit use for the same checks.
  app.get(['/healthz', '/-/healthy'], (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get(['/readyz', '/-/ready'], (_req, res) => {
    const waiting = deps.scheduler
      .statuses()
      .filter((s) => !s.tried)
      .map((s) => s.name);
    if (waiting.length === 0) res.type('text/plain').send('ready\n');
    else
      res
        .status(503)
        .type('text/plain')
        .send(`not ready: first collection pending for ${waiting.join(', ')}\n`);
  });

  const basic =
    cfg.basic_auth_username && cfg.basic_auth_password_file
      ? { user: cfg.basic_auth_username, password: readSecretFile(cfg.basic_auth_password_file) }
      : undefined;
  if (basic) app.use(requireBasicAuth(basic.user, basic.password, 'ollama-sentinel exporter'));
  if (deps.users?.enabled) app.use(requireBcryptUsers(deps.users, 'ollama-sentinel exporter'));

  app.get('/', (_req, res) => {
    res.type('html').send(landingPage(cfg.telemetry_path, deps.version, deps.scheduler));
  });

  app.get(cfg.telemetry_path, (req, res) => serveMetrics(req, res));

  app.get('/api/state', (req, res) => {
    const target = typeof req.query.target === 'string' ? req.query.target : undefined;
    if (req.query.fresh !== '1' || !deps.freshState) {
      res.json(deps.state());
      return;
    }
    if (target === undefined) {
      res.status(400).json({ error: 'fresh=1 needs target=NAME: one target is collected on demand' });
      return;
    }
    const wait = Number(req.query.wait_ms ?? FRESH_WAIT_DEFAULT_MS);
    const waitMs = Number.isFinite(wait) ? Math.min(Math.max(wait, 100), FRESH_WAIT_MAX_MS) : FRESH_WAIT_DEFAULT_MS;
    deps.freshState(target, waitMs).then(
      (doc) => {
        if (doc) res.json(doc);
        else res.status(404).json({ error: `no target named "${target}" is configured` });
      },
      (err: unknown) => {
        if (!res.headersSent) res.status(500).json({ error: `fresh collection failed: ${String(err)}` });
      },
    );
  });

  app.use((req, res) => {
    res
      .status(404)
      .type('text/plain')
      .send(`no such endpoint: ${req.method} ${req.path} (try ${cfg.telemetry_path}, /api/state, /healthz, /readyz)\n`);
  });
  // Scrapes skip Express: its per-request set-up costs more than serving the cached bytes, and its garbage set the
  // tail latency (p99 8-12 ms against 3 ms at 10 connections on the 2-core build machine). Anything else, and a
  // scrape whose credentials do not pass (Express refuses it with its reason), goes through the app.
  const authorized = scrapeAuthorizer(basic, deps.users);
  return (req, res) => {
    const path = req.url?.split('?', 1)[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && path === cfg.telemetry_path) {
      const ok = authorized(req);
      if (ok === true) return serveMetrics(req, res);
      if (ok !== false)
        return void ok.then(
          (yes) => (yes ? serveMetrics(req, res) : app(req, res)),
          () => app(req, res),
        );
    }
    app(req, res);
  };
}

/** Whether a scrape's credentials pass, as the app's own auth middleware would decide (no auth configured: true). */
function scrapeAuthorizer(
  basic: { user: string; password: string } | undefined,
  users: BcryptUsers | undefined,
): (req: IncomingMessage) => boolean | Promise<boolean> {
  return (req) => {
    if (basic && !checkBasicAuth(req, basic.user, basic.password)) return false;
    if (!users?.enabled) return true;
    const sent = readBasicAuth(req);
    return sent ? users.check(sent.user, sent.password) : false;
  };
}

function nodeRegistries(): Record<ExpositionFormat, Registry<RegistryContentType>> {
  const text = new Registry();
  collectDefaultMetrics({ register: text });
  const openmetrics = new Registry<RegistryContentType>();
  openmetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  collectDefaultMetrics({ register: openmetrics });
  return { text, openmetrics };
}

/** The cached exposition followed by Node's series of this moment (before OpenMetrics' closing # EOF). */
async function withNodeMetrics(
  cached: Exposition,
  reg: Registry<RegistryContentType>,
  format: ExpositionFormat,
  gzip: boolean,
): Promise<Exposition> {
  const EOF = '# EOF\n';
  let head = cached.body.toString();
  if (format === 'openmetrics' && head.endsWith(EOF)) head = head.slice(0, -EOF.length);
  const node = await reg.metrics();
  const body = Buffer.from(head + node);
  return { contentType: cached.contentType, body: gzip ? await promisify(gzipCallback)(body) : body, gzip };
}

function landingPage(metricsPath: string, version: string, scheduler: CollectorScheduler): string {
  const rows = scheduler
    .statuses()
    .map(
      (s) =>
        `<tr><td>${s.name}</td><td>${s.tried ? (s.ok ? 'ok' : `failing: ${escapeHtml(s.lastError?.reason ?? '')}`) : 'pending'}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html><head><title>ollama-sentinel exporter</title></head><body>
<h1>ollama-sentinel exporter ${escapeHtml(version)}</h1>
<ul><li><a href="${escapeHtml(metricsPath)}">Metrics</a></li><li><a href="/api/state">State and diagnosis (JSON)</a></li>
<li><a href="/healthz">/healthz</a></li><li><a href="/readyz">/readyz</a></li></ul>
<table><tr><th>collector</th><th>status</th></tr>${rows}</table></body></html>\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
