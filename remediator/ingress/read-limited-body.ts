import type { IncomingMessage } from 'node:http';

/**
 * The most a refused body is read (and dropped) so that its sender receives the answer. Clients such as Python's
 * urllib write the whole body before they read; answering and closing while they still write hands them a broken
 * pipe instead of the 413 (Go's client, Alertmanager's, reads while it writes but can lose the answer to the reset
 * the same way). Reading costs bandwidth only, never memory, and the server's request timeout bounds the time.
 */
export const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/** The body exceeded the limit: answer 413 and close. `drained`: it was read to its end, the client gets the answer. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(
    message: string,
    readonly drained: boolean,
  ) {
    super(message);
  }
}

/**
 * Reads the request body up to `limit` bytes. A bigger body is read on without being kept, up to `discardLimit`,
 * then refused with BodyTooLargeError; a declared Content-Length over `discardLimit` is refused before a byte is read.
 */
export function readLimitedBody(
  req: IncomingMessage,
  limit: number,
  discardLimit: number = DISCARD_LIMIT_BYTES,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = (size: string, drained: boolean) =>
    new BodyTooLargeError(`body of ${size} bytes exceeds the limit of ${limit} bytes`, drained);
  if (Number.isFinite(declared) && declared > discardLimit) return Promise.reject(tooLarge(String(declared), false));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > discardLimit) {
        cleanup();
        req.pause();
        reject(tooLarge(`more than ${discardLimit}`, false));
      } else chunks.length = 0;
    };
    const onEnd = () => {
      cleanup();
      if (size > limit) reject(tooLarge(String(size), true));
      else resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Reads a body that will be refused anyway (wrong type, shutting down) to its end, up to `discardLimit`. */
export async function discardBody(req: IncomingMessage, discardLimit: number = DISCARD_LIMIT_BYTES): Promise<void> {
  await readLimitedBody(req, 0, discardLimit).catch(() => undefined);
}
