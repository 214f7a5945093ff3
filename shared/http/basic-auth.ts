import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler, Response } from 'express';
import type { BcryptUsers } from './bcrypt-users.js';

/** Constant-time comparison of two secrets of any length (hashing first hides the length too). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The user and password of a basic-auth Authorization header, or undefined without a well-formed one. */
export function readBasicAuth(req: IncomingMessage): { user: string; password: string } | undefined {
  const header = req.headers.authorization ?? '';
  const m = header.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** True when the request carries these basic-auth credentials. */
export function checkBasicAuth(req: IncomingMessage, username: string, password: string): boolean {
  const sent = readBasicAuth(req);
  if (!sent) return false;
  // Evaluate both comparisons so timing does not tell which part was wrong.
  const userOk = secretsEqual(sent.user, username);
  const passOk = secretsEqual(sent.password, password);
  return userOk && passOk;
}

/** Express middleware: 401 with a reason and a WWW-Authenticate challenge unless the credentials match. */
export function requireBasicAuth(username: string, password: string, realm: string): RequestHandler {
  return (req, res, next) => {
    if (checkBasicAuth(req, username, password)) return next();
    refuse(req, res, realm);
  };
}

/** Express middleware: like requireBasicAuth, for the users of a web config (bcrypt hashes). */
export function requireBcryptUsers(users: BcryptUsers, realm: string): RequestHandler {
  return (req, res, next) => {
    const sent = readBasicAuth(req);
    if (!sent) return refuse(req, res, realm);
    users.check(sent.user, sent.password).then(
      (ok) => (ok ? next() : refuse(req, res, realm)),
      (err: unknown) => next(err),
    );
  };
}

function refuse(req: IncomingMessage, res: Response, realm: string): void {
  res
    .status(401)
    .set('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`)
    .type('text/plain')
    .send(
      req.headers.authorization ? 'wrong credentials\n' : 'authentication required: send HTTP basic auth credentials\n',
    );
}
