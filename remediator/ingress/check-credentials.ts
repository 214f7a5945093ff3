import type { IncomingHttpHeaders } from 'node:http';
import { checkBasicAuth, secretsEqual } from '../../shared/http/basic-auth.js';

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
  if (creds.basic !== undefined && checkBasicAuth({ headers } as Parameters<typeof checkBasicAuth>[0], creds.basic.username, creds.basic.password)) return 'ok';
  return 'wrong';
}
