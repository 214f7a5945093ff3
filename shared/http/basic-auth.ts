import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';

/** Constant-time comparison of two secrets of any length (hashing first hides the length too). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** True when the request carries these basic-auth credentials. */
export function checkBasicAuth(req: IncomingMessage, username: string, password: string): boolean {
  const header = req.headers.authorization ?? '';
  const m = header.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Evaluate both comparisons so timing does not tell which part was wrong.
  const userOk = secretsEqual(decoded.slice(0, colon), username);
  const passOk = secretsEqual(decoded.slice(colon + 1), password);
  return userOk && passOk;
}

/** Express middleware: 401 with a reason and a WWW-Authenticate challenge unless the credentials match. */
export function requireBasicAuth(username: string, password: string, realm: string): RequestHandler {
  return (req, res, next) => {
    if (checkBasicAuth(req, username, password)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`)
      .type('text/plain')
      .send(
        req.headers.authorization
          ? 'wrong credentials\n'
          : 'authentication required: send HTTP basic auth credentials\n',
      );
  };
}
