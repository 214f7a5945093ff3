import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createLogger } from '../../../../shared/log/create-logger.js';
import {
  DEFAULT_SERVER_LIMITS,
  startHttpServer,
  type RunningServer,
} from '../../../../shared/http/start-http-server.js';
import { TEST_SERVER_CERT_PEM, TEST_SERVER_KEY_PEM } from '../../../helpers/tls-fixture.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { waitFor } from '../../../helpers/wait-for.js';

const log = createLogger('silent');
const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
  req.resume();
  req.on('end', () => res.end('ok\n'));
};

interface Conn {
  readonly socket: Socket;
  /** Everything received; resolves with it and the milliseconds from connecting once the server closes. */
  readonly closed: Promise<{ text: string; ms: number }>;
}

function open(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = netConnect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8').on('data', (c: string) => (text += c));
    const closed = new Promise<{ text: string; ms: number }>((done) =>
      socket.on('close', () => done({ text, ms: Date.now() - started })),
    );
    socket.on('error', () => undefined); // a reset is a close here
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** Writes `pieces` one by one, `everyMs` apart, while the socket is open. */
function trickle(socket: Socket, pieces: string[], everyMs: number): void {
  const timer = setInterval(() => {
    const next = pieces.shift();
    if (next === undefined || socket.destroyed) clearInterval(timer);
    else socket.write(next);
  }, everyMs);
}

describe('HTTP server limits', () => {
  const servers: RunningServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close(500))));

  it('applies the documented limits by default', async () => {
    const s = await startHttpServer({ listen_address: '127.0.0.1:0' }, handler, log);
    servers.push(s);
    assert.deepEqual(
      {
        headersTimeoutMs: s.server.headersTimeout,
        requestTimeoutMs: s.server.requestTimeout,
        keepAliveTimeoutMs: s.server.keepAliveTimeout,
        maxConnections: s.server.maxConnections,
      },
      {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 65_000,
        maxConnections: 256,
      },
    );
    assert.equal(DEFAULT_SERVER_LIMITS.checkIntervalMs, 1000, 'the timeouts are checked every second, not every 30 s');
  });

  it('cuts off slow headers and a slow body within their bounds (408), not up to 30 s late', async () => {
    const limits = { headersTimeoutMs: 600, requestTimeoutMs: 1200, checkIntervalMs: 100 };
    const s = await startHttpServer({ listen_address: '127.0.0.1:0' }, handler, log, { limits });
    servers.push(s);
    const slowHeaders = await open(s.port);
    slowHeaders.socket.write('POST / HTTP/1.1\r\nHost: x\r\n');
    trickle(
      slowHeaders.socket,
      Array.from({ length: 100 }, (_, i) => `X-Slow-${i}: 1\r\n`),
      100,
    );
    const slowBody = await open(s.port);
    slowBody.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
    trickle(
      slowBody.socket,
      Array.from({ length: 100 }, () => 'x'),
      100,
    );
    const [h, b] = await Promise.all([slowHeaders.closed, slowBody.closed]);
    assert.match(h.text, /^HTTP\/1\.1 408 /);
    assert.match(b.text, /^HTTP\/1\.1 408 /);
    // Bound plus one check interval, and slack for a loaded machine.
    assert.ok(h.ms >= 550 && h.ms < 600 + 100 + 900, `slow headers cut after ${h.ms} ms`);
    assert.ok(b.ms >= 1150 && b.ms < 1200 + 100 + 900, `slow body cut after ${b.ms} ms`);
  });

  it('closes connections beyond the cap as soon as they are accepted; a freed slot is served again', async () => {
    const s = await startHttpServer({ listen_address: '127.0.0.1:0' }, handler, log, { limits: { maxConnections: 3 } });
    servers.push(s);
    const held = await Promise.all([open(s.port), open(s.port), open(s.port)]);
    await waitFor(async () => (await new Promise<number>((r) => s.server.getConnections((_e, n) => r(n)))) === 3, {
      timeoutMs: 5000,
      intervalMs: 20,
      what: 'three accepted connections',
    });
    const extra = await open(s.port);
    extra.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const refused = await extra.closed;
    assert.equal(refused.text, '', 'closed without an answer');
    assert.ok(refused.ms < 2000, `closed after ${refused.ms} ms`);
    assert.ok(
      held.every((c) => !c.socket.destroyed),
      'the three within the cap stay open',
    );
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await waitFor(
      async () => {
        const res = await fetch(`${s.url}/`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs: 5000, intervalMs: 50, what: 'a request served once a slot is free' },
    );
    for (const c of held) c.socket.destroy();
  });
});

describe('TLS certificate rotation', () => {
  it('serves a changed certificate; a bad one keeps the previous in use and is counted', async (t) => {
    const dir = await tempDir('tls-reload');
    const cert = join(dir.dir, 'cert.pem');
    const key = join(dir.dir, 'key.pem');
    writeFileSync(cert, TEST_SERVER_CERT_PEM);
    writeFileSync(key, TEST_SERVER_KEY_PEM);
    const s = await startHttpServer(
      { listen_address: '127.0.0.1:0', tls_cert_file: cert, tls_key_file: key },
      handler,
      log,
      { tlsPollMs: 50 },
    );
    t.after(async () => {
      await s.close(500);
      await dir.remove();
    });
    const served = () =>
      new Promise<string>((resolve, reject) => {
        const c = tlsConnect({ host: '127.0.0.1', port: s.port, rejectUnauthorized: false }, () => {
          resolve(c.getPeerX509Certificate()!.fingerprint256);
          c.destroy();
        });
        c.on('error', reject);
      });
    const original = await served();
    assert.deepEqual(s.tls?.(), { reloadErrors: 0, lastReloadOk: true });

    writeFileSync(cert, 'not a certificate\n');
    await waitFor(() => s.tls?.().reloadErrors === 1, { timeoutMs: 5000, intervalMs: 20, what: 'the failed reload' });
    assert.equal(s.tls?.().lastReloadOk, false);
    assert.equal(await served(), original, 'the previous certificate is still served');

    let rotated = TEST_SERVER_CERT_PEM;
    let rotatedKey = TEST_SERVER_KEY_PEM;
    try {
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
          ...['-keyout', join(dir.dir, 'new-key.pem'), '-out', join(dir.dir, 'new-cert.pem')],
          ...['-days', '1', '-subj', '/CN=127.0.0.1'],
        ],
        { stdio: 'ignore', timeout: 20_000 },
      );
      rotated = readFileSync(join(dir.dir, 'new-cert.pem'), 'utf8');
      rotatedKey = readFileSync(join(dir.dir, 'new-key.pem'), 'utf8');
    } catch {
      t.diagnostic('openssl is missing: rotating back to the same certificate');
    }
    writeFileSync(key, rotatedKey);
    writeFileSync(cert, rotated);
    await waitFor(() => s.tls?.().lastReloadOk, { timeoutMs: 5000, intervalMs: 20, what: 'the good reload' });
    if (rotated !== TEST_SERVER_CERT_PEM) assert.notEqual(await served(), original, 'the new certificate is served');
  });
});
