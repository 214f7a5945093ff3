import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../../shared/log/create-logger.js';
import { startHttpServer, type RunningServer } from '../../../../shared/http/start-http-server.js';
import { AlertIntake } from '../../../../remediator/ingress/alert-intake.js';
import { createRemediatorApp, type Readiness } from '../../../../remediator/ingress/create-remediator-app.js';
import { DEFAULT_PAYLOAD_LIMITS, type WebhookAlert } from '../../../../remediator/ingress/webhook-payload.js';
import { AlertJournal } from '../../../../remediator/journal/alert-journal.js';
import { DedupCache } from '../../../../remediator/journal/dedup-cache.js';
import { DurableAppender } from '../../../../remediator/journal/durable-appender.js';
import type { JournalRecord } from '../../../../remediator/journal/journal-record.js';
import { compileRules } from '../../../../remediator/policy/match-rule.js';
import { RemediatorMetrics } from '../../../../remediator/remediator-metrics.js';
import { amFixture, amFixtureText } from '../../../helpers/alertmanager-fixtures.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const TOKEN = 'tok-3f9a';
const log = createLogger('silent');

interface Harness {
  server: RunningServer;
  journal: AlertJournal;
  recorded: JournalRecord[];
  duplicates: WebhookAlert[];
  metrics: RemediatorMetrics;
  close(): Promise<void>;
}

async function start(opts: { journalPath?: string; basic?: boolean; ready?: Readiness } = {}): Promise<Harness> {
  const t = await tempDir('app');
  const { journal } = await AlertJournal.open(t.dir, 1 << 20, 0);
  const full = opts.journalPath ? await DurableAppender.open(opts.journalPath) : undefined;
  const recorded: JournalRecord[] = [];
  const duplicates: WebhookAlert[] = [];
  const metrics = new RemediatorMetrics('test');
  let seq = 0;
  const intake = new AlertIntake({
    journal: full
      ? {
          append: async (recs) => {
            await full.append(recs.map((r) => JSON.stringify(r)));
            return recs.map((r) => ({ seq: ++seq, ...r }));
          },
        }
      : journal,
    dedup: new DedupCache(1000),
    rules: compileRules([
      {
        name: 'gpu',
        match: { alertname: 'OllamaGpuAccessLost' },
        match_re: {},
        start: 'auto',
        quiet_mode: 'defer',
        model_label: 'model',
      },
    ]),
    targetLabel: 'ollama',
    targetNames: ['main', 'other'],
    defaultSingleTarget: true,
    now: () => 1_000,
    onRecorded: (r) => recorded.push(...r),
    onDuplicates: (a) => duplicates.push(...a),
  });
  const app = createRemediatorApp({
    credentials: { bearerToken: TOKEN, ...(opts.basic ? { basic: { username: 'am', password: 'pw' } } : {}) },
    maxBodyBytes: 64 * 1024,
    limits: { ...DEFAULT_PAYLOAD_LIMITS, maxAlerts: 50 },
    metrics,
    log,
    version: 'test',
    ingest: (p) => intake.ingest(p),
    accepting: () => true,
    incidents: (limit) => ({ incidents: [], limit }),
    resetBreaker: () => ({ wasOpen: true }),
    ready: async () => opts.ready ?? { ok: true, checks: { journal: 'ok' } },
  });
  const server = await startHttpServer({ listen_address: '127.0.0.1:0' }, app, log);
  return {
    server,
    journal,
    recorded,
    duplicates,
    metrics,
    async close() {
      await server.close(1000);
      await journal.close();
      await full?.close();
      await t.remove();
    },
  };
}

function post(h: Harness, body: string, headers: Record<string, string> = {}, path = '/webhook') {
  return fetch(`${h.server.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
  });
}

describe('remediator webhook', () => {
  let h: Harness;
  before(async () => {
    h = await start({ basic: true });
  });
  after(() => h.close());

  it('records a real Alertmanager webhook durably before answering 200', async () => {
    const res = await post(h, amFixtureText('am-0.25-gpu-lost-firing.json'));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { accepted: number; duplicates: number; refused: unknown[] };
    assert.deepEqual(body, { status: 'ok', accepted: 1, duplicates: 0, refused: [] });
    assert.equal(h.recorded.length, 1);
    assert.equal(h.recorded[0]!.rule, 'gpu');
    assert.equal(h.recorded[0]!.target, 'main');
    assert.equal(h.journal.nextSeq, 2, 'the journal holds it');
  });

  it('answers re-sends from memory: no second journal write', async () => {
    const syncs = h.journal.syncs;
    const res = await post(h, amFixtureText('am-0.25-gpu-lost-firing.json'));
    assert.deepEqual(await res.json(), { status: 'ok', accepted: 0, duplicates: 1, refused: [] });
    assert.equal(h.journal.syncs, syncs);
    assert.equal(h.duplicates.length, 1);
  });

  it('takes a grown group: the old alert is a duplicate, the new one is recorded', async () => {
    const res = await post(h, amFixtureText('am-0.25-gpu-lost-group-grew.json'));
    assert.deepEqual(await res.json(), { status: 'ok', accepted: 1, duplicates: 1, refused: [] });
    const mixed = await post(h, amFixtureText('am-0.25-gpu-lost-mixed.json'));
    const body = (await mixed.json()) as { accepted: number; duplicates: number };
    assert.equal(body.accepted, 1, 'the resolution is new');
    assert.equal(body.duplicates, 1, 'the still-firing alert is not');
    assert.equal(h.recorded.at(-1)!.status, 'resolved');
  });

  it('refuses alerts for undeclared targets with a 200 and the reason (no retry storm), labels stay data', async () => {
    const good = amFixture('am-0.25-runner-hung-firing.json');
    const alert = (good.alerts as Record<string, unknown>[])[0]!;
    const evil = '$(touch /tmp/pwned); `id`; main';
    const res = await post(
      h,
      JSON.stringify({
        ...good,
        alerts: [{ ...alert, fingerprint: 'e0e0e0e0e0e0e0e0', labels: { ...(alert.labels as object), ollama: evil } }],
      }),
    );
    assert.equal(res.status, 200);
    const body = (await res.json()) as { refused: { reason: string; detail: string }[] };
    assert.equal(body.refused[0]!.reason, 'unknown_target');
    assert.match(body.refused[0]!.detail, /not a declared target/);
    assert.equal(h.recorded.at(-1)!.refused, 'unknown_target');
    assert.equal(h.recorded.at(-1)!.labels.ollama, evil);
    const noRule = await post(h, amFixtureText('am-0.25-runner-hung-firing.json'));
    assert.equal(((await noRule.json()) as { refused: { reason: string }[] }).refused[0]!.reason, 'no_matching_rule');
    const metrics = await h.metrics.registry.getSingleMetricAsString('sentinel_remediator_alerts_refused_total');
    assert.match(metrics, /reason="unknown_target"} 1/);
  });

  it('checks credentials before reading the body', async () => {
    const none = await fetch(`${h.server.url}/webhook`, {
      method: 'POST',
      body: 'x'.repeat(10),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.match(await none.text(), /authentication required/);
    const wrong = await post(h, '{}', { authorization: 'Bearer nope' });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /wrong credentials/);
    const basic = await post(h, amFixtureText('am-0.25-gpu-lost-firing.json'), {
      authorization: `Basic ${Buffer.from('am:pw').toString('base64')}`,
    });
    assert.equal(basic.status, 200);
    const badBasic = await post(h, '{}', { authorization: `Basic ${Buffer.from('am:pW').toString('base64')}` });
    assert.equal(badBasic.status, 401);
    // A huge unauthenticated upload is cut off after the headers, never buffered.
    const status = await rawPost(
      h.server.port,
      { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) },
      'x'.repeat(1024),
    );
    assert.equal(status, 401);
    const apiNoAuth = await fetch(`${h.server.url}/api/incidents`);
    assert.equal(apiNoAuth.status, 401);
    assert.equal((await fetch(`${h.server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${h.server.url}/-/healthy`)).status, 200, 'the Prometheus-style alias, open too');
  });

  it('answers 415, 413 and 400 with reasons', async () => {
    const text = await post(h, '{}', { 'content-type': 'text/plain' });
    assert.equal(text.status, 415);
    assert.match(((await text.json()) as { error: string }).error, /application\/json/);
    const big = await post(h, JSON.stringify({ pad: 'x'.repeat(70 * 1024) }));
    assert.equal(big.status, 413);
    const chunked = await rawPost(
      h.server.port,
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked', authorization: `Bearer ${TOKEN}` },
      'y'.repeat(100 * 1024),
    );
    assert.equal(chunked, 413);
    const notJson = await post(h, '{"version": "4",');
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { error: string }).error, /not JSON/);
    const bad = await post(h, JSON.stringify({ version: '4', alerts: [{ status: 'firing' }] }));
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { field: string }).field, 'alerts[0].fingerprint');
    const good = amFixture('am-0.25-gpu-lost-firing.json');
    const flood = await post(
      h,
      JSON.stringify({ ...good, alerts: Array.from({ length: 51 }, () => (good.alerts as unknown[])[0]) }),
    );
    assert.equal(flood.status, 413);
    assert.equal(
      (await fetch(`${h.server.url}/webhook`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
      405,
    );
  });

  it('records concurrent webhooks with shared fsyncs', async () => {
    const good = amFixture('am-0.25-gpu-lost-firing.json');
    const alert = (good.alerts as Record<string, unknown>[])[0]!;
    const before = h.journal.syncs;
    const bodies = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ ...good, alerts: [{ ...alert, fingerprint: `c0ffee${String(i).padStart(4, '0')}` }] }),
    );
    const results = await Promise.all(bodies.map((b) => post(h, b)));
    assert.ok(results.every((r) => r.status === 200));
    // The same alert in two concurrent requests is written once.
    const twice = await Promise.all([
      post(h, bodies[0]!.replace('c0ffee0000', 'beef000001')),
      post(h, bodies[0]!.replace('c0ffee0000', 'beef000001')),
    ]);
    const reports = (await Promise.all(twice.map((r) => r.json()))) as { accepted: number; duplicates: number }[];
    assert.deepEqual(reports.map((r) => r.accepted).sort(), [0, 1]);
    assert.ok(h.journal.syncs - before <= 21, `fsyncs ${h.journal.syncs - before}`);
  });
});

describe('remediator webhook: answers every bad request with its reason', () => {
  let h: Harness;
  before(async () => {
    h = await start({
      ready: { ok: false, checks: { docker: 'unreachable (connect ENOENT /run/secret/docker.sock)' } },
    });
  });
  after(() => h.close());

  // Before, a body over the limit was answered and the connection closed while such a client was still writing:
  // it saw a broken pipe, never the 413.
  it('delivers the 413 to a client that writes the whole body before reading', async () => {
    const body = 'x'.repeat(4 * 1024 * 1024);
    const head = `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(h.server.port, '127.0.0.1');
      let text = '';
      let written = false;
      socket.setEncoding('utf8').on('data', (c: string) => (text += c));
      socket.on('error', (err) => reject(new Error(`${err.message} after writing ${written ? 'all' : 'part'}`)));
      socket.on('close', () => resolve(text));
      socket.write(head + body, (err) => (written = !err)); // everything first; read only what comes back
    });
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /body of 4194304 bytes exceeds the limit of 65536 bytes \(remediator\.max_body_bytes\)/);
  });

  it("delivers it to Python's urllib too (it sends the whole body first)", async (t) => {
    const script = `import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=b'x' * (4 << 20), method='POST',
    headers={'Content-Type': 'application/json', 'Authorization': 'Bearer ${TOKEN}'})
try:
    urllib.request.urlopen(req, timeout=20)
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
`;
    const run = await execa('python3', ['-c', script, `${h.server.url}/webhook`], { reject: false, timeout: 30_000 });
    if ((run as { code?: string }).code === 'ENOENT') return t.skip('python3 is not installed');
    assert.match(run.stdout, /^413 .*exceeds the limit/, `${run.stdout}${run.stderr}`);
  });

  it('refuses deeply nested JSON with a 400 (a 500 would be retried forever)', async () => {
    const deep = `{"version":"4","alerts":[${'['.repeat(29_000)}${']'.repeat(29_000)}]}`;
    const res = await post(h, deep);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /nested more than 32 levels/);
    assert.equal((await post(h, `${'['.repeat(100_000)}${']'.repeat(100_000)}`)).status, 413, 'beyond the size limit');
  });

  it('names an unsupported Content-Encoding (415)', async () => {
    const res = await post(h, gzipSync(amFixtureText('am-0.25-gpu-lost-firing.json')).toString('latin1'), {
      'content-encoding': 'gzip',
    });
    assert.equal(res.status, 415);
    assert.equal(res.headers.get('accept-encoding'), 'identity');
    assert.match(((await res.json()) as { error: string }).error, /^Content-Encoding gzip is not supported; /);
  });

  it('tells /readyz callers why only when they are authenticated', async () => {
    const open = await fetch(`${h.server.url}/readyz`);
    assert.equal(open.status, 503);
    assert.equal(await open.text(), 'not ready\n', 'no socket path or error for anyone who can reach the port');
    const alias = await fetch(`${h.server.url}/-/ready`);
    assert.deepEqual([alias.status, await alias.text()], [503, 'not ready\n']);
    const authed = await fetch(`${h.server.url}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(authed.status, 503);
    assert.match(
      await authed.text(),
      /^not ready\ndocker: unreachable \(connect ENOENT \/run\/secret\/docker\.sock\)\n$/,
    );
  });
});

describe('remediator webhook on a full disk', () => {
  it('answers 503 so Alertmanager retries, and does not hand the alerts on', async () => {
    const t = await tempDir('app-full');
    const path = join(t.dir, 'full.jsonl');
    await symlink('/dev/full', path);
    const h = await start({ journalPath: path });
    try {
      const res = await post(h, amFixtureText('am-0.25-gpu-lost-firing.json'));
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { error: string }).error, /ENOSPC/);
      assert.equal(h.recorded.length, 0);
      const again = await post(h, amFixtureText('am-0.25-gpu-lost-firing.json'));
      assert.equal(again.status, 503, 'a failed write is not remembered as recorded');
    } finally {
      await h.close();
      await t.remove();
    }
  });
});

/** Sends headers and part of a body with node:http (fetch cannot lie about Content-Length); resolves the status. */
function rawPost(port: number, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/webhook', method: 'POST', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err),
    );
    req.write(body);
    if (!headers['content-length']) req.end();
  });
}
