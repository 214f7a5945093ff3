// max_concurrent_scrapes counts a scrape until its response is written out or its connection closes: clients that
// do not read a large exposition hold their slots, and scrapes beyond the cap get 503 until they let go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createExporterApp } from '../../../exporter/create-exporter-app.js';
import { CollectorScheduler } from '../../../exporter/collector-scheduler.js';
import type { Collector } from '../../../exporter/collector.js';
import type { ExporterConfig } from '../../../exporter/exporter-section.js';
import { rawGet } from '../../helpers/raw-get.js';
import { waitFor } from '../../helpers/wait-for.js';

// About 8 MB: more than loopback's socket buffers take from a client that never reads (4 MB send + 128 KB receive).
const SERIES = 8000;
const PAD = 'x'.repeat(1000);

const big: Collector<number> = {
  name: 'big',
  intervalMs: 60_000,
  timeoutMs: 5000,
  collect: async () => SERIES,
  render(n, sink) {
    for (let i = 0; i < n; i++) sink.gauge('test_big', 'Padding.', { i: String(i), pad: PAD }, i);
  },
};

test('slow readers hold their scrape slots: beyond max_concurrent_scrapes 503, after they go 200', async (t) => {
  const scheduler = new CollectorScheduler([big], { log: pino({ level: 'silent' }) });
  await scheduler.runNow('big');
  const cfg = { telemetry_path: '/metrics', max_concurrent_scrapes: 2, node_metrics: false } as ExporterConfig;
  const server = createServer(createExporterApp(cfg, { scheduler, version: 't', state: () => ({}) }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/metrics`;
  const slow: Socket[] = [];
  t.after(async () => {
    for (const s of slow) s.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  // The first full scrape renders (and caches) the exposition, so the slow ones below start writing at once.
  const full = await rawGet(url);
  assert.equal(full.status, 200);
  assert.ok(full.body.length > 8_000_000, `exposition of ${full.body.length} bytes`);

  for (let i = 0; i < 2; i++) {
    // Never read: Node stops reading at its buffer's high-water mark, the kernel's buffers fill, the server blocks.
    const s = connect(port, '127.0.0.1');
    s.write(`GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    slow.push(s);
  }
  const over = await waitFor(
    async () => {
      const r = await rawGet(url);
      return r.status === 503 ? r : undefined;
    },
    { timeoutMs: 5000, what: 'a scrape beyond the cap to get 503' },
  );
  assert.match(over.body.toString(), /too many concurrent scrapes \(limit 2\)/);

  slow.shift()!.destroy();
  const after = await waitFor(
    async () => {
      const r = await rawGet(url);
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 5000, what: 'a slot to come back when a slow reader closes' },
  );
  assert.ok(after.body.equals(full.body));
});

test('scrapes skip Express but answer as it would: auth refused with its reason, HEAD, a trailing slash, other methods', async (t) => {
  const scheduler = new CollectorScheduler([{ ...big, collect: async () => 3 }], { log: pino({ level: 'silent' }) });
  await scheduler.runNow('big');
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-app-'));
  writeFileSync(join(dir, 'pw'), 's3cret\n');
  const cfg = {
    telemetry_path: '/metrics',
    max_concurrent_scrapes: 4,
    node_metrics: false,
    basic_auth_username: 'prom',
    basic_auth_password_file: join(dir, 'pw'),
  } as ExporterConfig;
  const server = createServer(createExporterApp(cfg, { scheduler, version: 't', state: () => ({}) }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = { authorization: `Basic ${Buffer.from('prom:s3cret').toString('base64')}` };
  const wrong = { authorization: `Basic ${Buffer.from('prom:nope').toString('base64')}` };

  const none = await fetch(`${base}/metrics`);
  assert.equal(none.status, 401);
  assert.match(await none.text(), /authentication required/);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  const refused = await fetch(`${base}/metrics?x=1`, { headers: wrong });
  assert.equal(refused.status, 401);
  assert.equal(await refused.text(), 'wrong credentials\n');

  const ok = await fetch(`${base}/metrics?x=1`, { headers: auth });
  assert.equal(ok.status, 200);
  const body = await ok.text();
  assert.match(body, /^test_big\{i="2",pad="x+"\} 2$/m);
  assert.equal(ok.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const head = await fetch(`${base}/metrics`, { method: 'HEAD', headers: auth });
  assert.equal(head.status, 200);
  assert.equal(
    head.headers.get('content-length'),
    ok.headers.get('content-length'),
    'the same (gzip) document, no body',
  );
  assert.equal(await head.text(), '');
  // Express matches a trailing slash too: the same document through the app.
  const slash = await fetch(`${base}/metrics/`, { headers: auth });
  assert.equal(slash.status, 200);
  assert.equal(await slash.text(), body);
  assert.equal((await fetch(`${base}/metrics`, { method: 'POST', headers: auth })).status, 404);
});
