import { statSync } from 'node:fs';
import type { Logger } from '../log/create-logger.js';
import { readTlsFiles, type TlsFiles } from './tls-files.js';

/** How the served certificate follows its files. */
export interface TlsStatus {
  /** Changes of the files that could not be loaded (the certificate served before stayed in use). */
  readonly reloadErrors: number;
  /** False while the files on disk cannot be loaded and an older certificate is still served. */
  readonly lastReloadOk: boolean;
}

/**
 * Serves a certificate (and the client CA, with mutual TLS) that follows its files: they are polled (stat, cheap) and re-read when they change, which also
 * catches a Kubernetes secret's symlink swap that file watchers miss. A new pair that cannot be loaded (garbage, a
 * key that does not match, half of a rotation) is not applied: the previous one stays in use, the error is logged
 * and counted, and the next change is tried again.
 */
export class TlsFileWatch {
  /** The pair read at start (throws TlsFilesError when it is unusable). */
  readonly initial: TlsFiles;
  private seen: string;
  private errors = 0;
  private ok = true;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly certPath: string,
    private readonly keyPath: string,
    private readonly log: Logger,
    private readonly caPath?: string,
  ) {
    // The signature is taken before the read: a change in between is seen at the first poll.
    this.seen = this.signature();
    this.initial = readTlsFiles(certPath, keyPath, caPath);
  }

  start(apply: (files: TlsFiles) => void, intervalMs: number): void {
    this.timer = setInterval(() => this.poll(apply), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  status(): TlsStatus {
    return { reloadErrors: this.errors, lastReloadOk: this.ok };
  }

  private poll(apply: (files: TlsFiles) => void): void {
    const now = this.signature();
    if (now === this.seen) return;
    this.seen = now;
    try {
      apply(readTlsFiles(this.certPath, this.keyPath, this.caPath));
      this.ok = true;
      this.log.info({ cert: this.certPath, key: this.keyPath, client_ca: this.caPath }, 'TLS certificate reloaded');
    } catch (err) {
      this.errors++;
      this.ok = false;
      this.log.error(
        { err: (err as Error).message, cert: this.certPath, key: this.keyPath, client_ca: this.caPath },
        'the changed TLS certificate, key or client CA cannot be used; the previous ones stay in use',
      );
    }
  }

  private signature(): string {
    return [this.certPath, this.keyPath, ...(this.caPath === undefined ? [] : [this.caPath])]
      .map((p) => {
        try {
          const s = statSync(p);
          return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
        } catch (err) {
          return `unreadable:${(err as NodeJS.ErrnoException).code ?? ''}`;
        }
      })
      .join('|');
  }
}
