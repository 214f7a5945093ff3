import type { IncomingHttpHeaders } from 'node:http';
import express, { type Express, type Request, type Response } from 'express';
import { checkBasicAuth, secretsEqual } from '../../shared/http/basic-auth.js';
import type { Logger } from '../../shared/log/create-logger.js';
import type { RemediatorMetrics } from '../remediator-metrics.js';
import { IntakeUnavailableError, type IngestReport } from './alert-intake.js';
import { parseJsonBody, parseWebhookPayload } from './parse-webhook-payload.js';
import { BodyTooLargeError, discardBody, readLimitedBody } from './read-limited-body.js';
import type { PayloadLimits, WebhookPayload } from './webhook-payload.js';

export interface Readiness {
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, string>>;
}

export interface RemediatorAppDeps {
  readonly credentials: Credentials;
  readonly maxBodyBytes: number;
  readonly limits: PayloadLimits;
  readonly metrics: RemediatorMetrics;
  readonly log: Logger;
  readonly version: string;
  ingest(payload: WebhookPayload): Promise<IngestReport>;
  /** False once shutdown began: new webhooks get 503 so Alertmanager re-sends them later. */
  accepting(): boolean;
  incidents(limit: number): unknown;
  resetBreaker(by: string): { readonly wasOpen: boolean };
  ready(): Promise<Readiness>;
}

/**
 * The remediator's HTTP surface. Credentials are checked before a byte of the body is read; the body is size-capped,
 * must be JSON, and is validated field by field. A 2xx means every alert is durably recorded; 5xx only when it
 * could not be (Alertmanager retries those); 4xx for requests that would fail the same way again.
 */
export function createRemediatorApp(deps: RemediatorAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // /-/healthy and /-/ready: the paths Prometheus, Alertmanager and the exporter-toolkit use for the same checks.
  app.get(['/healthz', '/-/healthy'], (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  // Open to orchestrators, but the reasons (socket paths, errors) only to authenticated callers and the log.
  let lastNotReady = '';
  app.get(['/readyz', '/-/ready'], async (req, res) => {
    const r = await deps.ready();
    const lines = Object.entries(r.checks).map(([k, v]) => `${k}: ${v}`);
    const why = r.ok ? '' : lines.join(', ');
    if (why !== lastNotReady && why !== '') deps.log.warn({ checks: r.checks }, 'not ready');
    lastNotReady = why;
    const details = checkCredentials(req.headers, deps.credentials) === 'ok' ? `${lines.join('\n')}\n` : '';
    res
      .status(r.ok ? 200 : 503)
      .type('text/plain')
      .send(`${r.ok ? 'ready' : 'not ready'}\n${details}`);
  });

  app.use((req, res, next) => {
    const verdict = checkCredentials(req.headers, deps.credentials);
    if (verdict === 'ok') return next();
    if (req.path === '/webhook') deps.metrics.requests.inc({ code: '401' });
    const schemes = [
      deps.credentials.bearerToken !== undefined ? 'Bearer realm="ollama-sentinel remediator"' : '',
      deps.credentials.basic ? 'Basic realm="ollama-sentinel remediator", charset="UTF-8"' : '',
    ].filter(Boolean);
    // The body is never read: close the connection rather than drain an unauthenticated upload.
    res
      .status(401)
      .set('WWW-Authenticate', schemes.join(', '))
      .set('Connection', 'close')
      .type('text/plain')
      .send(
        verdict === 'missing'
          ? 'authentication required: send the bearer token (or basic auth credentials)\n'
          : 'wrong credentials\n',
      );
  });

  app.get('/', (_req, res) => {
    res.type('html').send(`<!doctype html><html><head><title>ollama-sentinel remediator</title></head><body>
<h1>ollama-sentinel remediator ${escapeHtml(deps.version)}</h1>
<ul><li>POST /webhook (Alertmanager webhook, payload version 4)</li><li><a href="/metrics">/metrics</a></li>
<li><a href="/api/incidents">/api/incidents</a></li><li>POST /api/breaker/reset</li><li><a href="/healthz">/healthz</a></li><li><a href="/readyz">/readyz</a></li></ul></body></html>\n`);
  });

  app.post('/webhook', async (req, res) => {
    const reply = (code: number, body: unknown) => {
      deps.metrics.requests.inc({ code: String(code) });
      if (code === 413) res.set('Connection', 'close');
      res.status(code).json(body);
    };
    // Refused requests are read to their end first (bounded), so clients that send the whole body before reading
    // receive the answer instead of a broken pipe.
    const refuse = async (code: number, error: string) => {
      await discardBody(req);
      reply(code, { status: 'error', error });
    };
    if (!deps.accepting()) return refuse(503, 'shutting down; send again later');
    if (!req.is('application/json'))
      return refuse(
        415,
        `Content-Type must be application/json (got ${JSON.stringify(req.headers['content-type'] ?? '')})`,
      );
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      res.set('Accept-Encoding', 'identity');
      return refuse(
        415,
        `Content-Encoding ${encoding.slice(0, 40)} is not supported; send the body uncompressed (as Alertmanager does)`,
      );
    }
    let raw: Buffer;
    try {
      raw = await readLimitedBody(req, deps.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError)
        return reply(413, { status: 'error', error: `${err.message} (remediator.max_body_bytes)` });
      throw err;
    }
    const json = parseJsonBody(raw.toString('utf8'));
    if (!json.ok) return reply(400, { status: 'error', error: json.problem });
    const parsed = parseWebhookPayload(json.value, deps.limits);
    if (!parsed.ok)
      return reply(parsed.status, {
        status: 'error',
        field: parsed.field,
        error: `${parsed.field}: ${parsed.problem}`,
      });
    for (const a of parsed.payload.alerts) deps.metrics.alertsReceived.inc({ status: a.status });
    let report: IngestReport;
    try {
      report = await deps.ingest(parsed.payload);
    } catch (err) {
      if (err instanceof IntakeUnavailableError) {
        deps.log.error({ err }, 'webhook not accepted: alerts could not be recorded');
        return reply(503, { status: 'error', error: err.message });
      }
      throw err;
    }
    deps.metrics.duplicates.inc(report.duplicates);
    for (const r of report.refused) deps.metrics.refused.inc({ reason: r.reason });
    reply(200, { status: 'ok', ...report });
  });
  app.all('/webhook', (req, res) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .type('text/plain')
      .send(`${req.method} not allowed: POST the Alertmanager webhook here\n`);
  });

  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.get('/api/incidents', (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 50) || 50, 1), 1000);
    res.json(deps.incidents(limit));
  });
  app.post('/api/breaker/reset', (req, res) => {
    const by = String(req.headers['x-operator'] ?? 'api').slice(0, 64);
    const r = deps.resetBreaker(by);
    res.json({ status: 'ok', was_open: r.wasOpen });
  });

  app.use((req: Request, res: Response) => {
    res.status(404).type('text/plain').send(`no such endpoint: ${req.method} ${req.path}\n`);
  });
  app.use((err: Error, _req: Request, res: Response, _next: unknown) => {
    deps.log.error({ err }, 'request failed');
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
  });
  return app;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Credentials {
  readonly bearerToken?: string;
  readonly basic?: { readonly username: string; readonly password: string };
}

export type CredentialCheck = 'ok' | 'missing' | 'wrong';

/**
 * Bearer and/or basic auth, compared in constant time. With both configured either is accepted (Alertmanager's
 * http_config allows only one of them per receiver). With none configured every request passes: the caller only
 * gets there with insecure_no_auth.
 */
export function checkCredentials(headers: IncomingHttpHeaders, creds: Credentials): CredentialCheck {
  if (creds.bearerToken === undefined && creds.basic === undefined) return 'ok';
  const header = headers.authorization;
  if (!header) return 'missing';
  const bearer = header.match(/^Bearer\s+(\S+)\s*$/i);
  if (bearer && creds.bearerToken !== undefined && secretsEqual(bearer[1]!, creds.bearerToken)) return 'ok';
  if (
    creds.basic !== undefined &&
    checkBasicAuth({ headers } as Parameters<typeof checkBasicAuth>[0], creds.basic.username, creds.basic.password)
  )
    return 'ok';
  return 'wrong';
}
