import express, { type Express } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { ExporterConfig } from './exporter-section.js';
import { readSecretFile } from '../shared/http/secret-files.js';
import { requireBasicAuth } from '../shared/http/basic-auth.js';
import type { CollectorScheduler } from './collector-scheduler.js';
import { PromSink } from './metrics/prom-sink.js';
import type { MetricSink } from './collector.js';

export interface ExporterAppDeps {
  readonly scheduler: CollectorScheduler;
  readonly version: string;
  /** The JSON state document (latest snapshots and a diagnosis per target). */
  readonly state: () => unknown;
  /** Series derived from the snapshots at scrape time (the diagnosis). */
  readonly extraSeries?: (sink: MetricSink) => void;
}

/** The exporter's HTTP surface: landing page, /metrics, /api/state, /healthz, /readyz. */
export function createExporterApp(cfg: ExporterConfig, deps: ExporterAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  const defaults = cfg.node_metrics ? new Registry() : undefined;
  if (defaults) collectDefaultMetrics({ register: defaults });
  let scrapesInFlight = 0;

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
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

  if (cfg.basic_auth_username && cfg.basic_auth_password_file) {
    app.use(
      requireBasicAuth(
        cfg.basic_auth_username,
        readSecretFile(cfg.basic_auth_password_file),
        'ollama-sentinel exporter',
      ),
    );
  }

  app.get('/', (_req, res) => {
    res.type('html').send(landingPage(cfg.telemetry_path, deps.version, deps.scheduler));
  });

  app.get(cfg.telemetry_path, async (_req, res) => {
    if (scrapesInFlight >= cfg.max_concurrent_scrapes) {
      res
        .status(503)
        .type('text/plain')
        .send(`too many concurrent scrapes (limit ${cfg.max_concurrent_scrapes}); retry later\n`);
      return;
    }
    scrapesInFlight++;
    try {
      const sink = new PromSink();
      sink.gauge(
        'sentinel_build_info',
        'ollama-sentinel build: version and the Node.js it runs on.',
        { version: deps.version, nodejs_version: process.version },
        1,
      );
      deps.scheduler.render(sink);
      deps.extraSeries?.(sink);
      const reg = sink.registry();
      let text = await reg.metrics();
      if (defaults) text += await defaults.metrics();
      res.type(reg.contentType).send(text);
    } finally {
      scrapesInFlight--;
    }
  });

  app.get('/api/state', (_req, res) => {
    res.json(deps.state());
  });

  app.use((req, res) => {
    res
      .status(404)
      .type('text/plain')
      .send(`no such endpoint: ${req.method} ${req.path} (try ${cfg.telemetry_path}, /api/state, /healthz, /readyz)\n`);
  });
  return app;
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
