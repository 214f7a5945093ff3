import type { RequestHandler } from 'express';
import { checkBasicAuth } from './basic-auth.js';

/** Express middleware: 401 with a reason and a WWW-Authenticate challenge unless the credentials match. */
export function requireBasicAuth(username: string, password: string, realm: string): RequestHandler {
  return (req, res, next) => {
    if (checkBasicAuth(req, username, password)) return next();
    res.status(401).set('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`).type('text/plain')
      .send(req.headers.authorization ? 'wrong credentials\n' : 'authentication required: send HTTP basic auth credentials\n');
  };
}
