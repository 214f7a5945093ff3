import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { parseListenAddress } from '../../shared/http/listen-settings.js';
import { readSecretFile } from '../../shared/http/secret-files.js';
import { resetBreaker } from '../policy/check-safety.js';
import type { RemediatorConfig } from '../remediator-section.js';
import { acquireInstanceLock, describeHolder, findLockHolder } from '../state/instance-lock.js';
import { StateStore, STATE_FILE } from '../state/state-store.js';
import { writeFileAtomic } from '../state/write-file-atomic.js';

/**
 * `ollama-sentinel remediator --reset-breaker`: asks the running remediator (its own listener, its own credentials),
 * or, when none runs on this data_dir, resets the breaker in the state file under the instance lock.
 */
export async function resetBreakerFromCli(cfg: RemediatorConfig, by: string): Promise<string> {
  const running = await findLockHolder(cfg.data_dir);
  if (running) {
    const body = await postReset(cfg, by);
    return `asked the running remediator (${describeHolder(running.holder)}): ${body.trim()}`;
  }
  const lock = await acquireInstanceLock(cfg.data_dir);
  try {
    const state = structuredClone(await StateStore.load(cfg.data_dir));
    const wasOpen = resetBreaker(state.safety, Date.now(), by);
    await writeFileAtomic(join(cfg.data_dir, STATE_FILE), JSON.stringify(state));
    return `no remediator runs on ${cfg.data_dir}; reset the breaker in its state file (it was ${wasOpen ? 'open' : 'closed'})`;
  } finally {
    await lock.release();
  }
}

function postReset(cfg: RemediatorConfig, by: string): Promise<string> {
  const { host, port } = parseListenAddress(cfg.listen_address);
  const loopback = !host || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const headers: Record<string, string> = { 'x-operator': by, 'content-length': '0' };
  if (cfg.bearer_token_file) headers.authorization = `Bearer ${readSecretFile(cfg.bearer_token_file)}`;
  else if (cfg.basic_auth_username && cfg.basic_auth_password_file)
    headers.authorization = `Basic ${Buffer.from(`${cfg.basic_auth_username}:${readSecretFile(cfg.basic_auth_password_file)}`).toString('base64')}`;
  const tls = Boolean(cfg.tls_cert_file && cfg.tls_key_file);
  return new Promise((resolve, reject) => {
    const options = { host: loopback, port, path: '/api/breaker/reset', method: 'POST', headers, timeout: 10_000 };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      let text = '';
      res
        .setEncoding('utf8')
        .on('data', (c: string) => (text += c))
        .on('end', () =>
          res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}: ${text.trim()}`)),
        );
    };
    // Our own certificate is the trust anchor: this is a call to ourselves on loopback, whatever name the cert carries.
    const req = tls
      ? httpsRequest(
          { ...options, ca: readSecretFile(cfg.tls_cert_file!), checkServerIdentity: () => undefined },
          onResponse,
        )
      : httpRequest(options, onResponse);
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end();
  });
}
