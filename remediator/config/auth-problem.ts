import type { RemediatorConfig } from '../remediator-config.js';

/**
 * Why the remediator must not start with these credentials settings, or undefined. Anyone who can POST to the
 * webhook can restart containers, so running open is an explicit, visible choice (insecure_no_auth).
 */
export function authProblem(cfg: RemediatorConfig): string | undefined {
  // Half a basic-auth pair is already refused when the config is loaded (checkListen).
  const hasAuth = cfg.bearer_token_file !== undefined || cfg.basic_auth_username !== undefined;
  if (!hasAuth && !cfg.insecure_no_auth) {
    return 'no credentials configured: set remediator.bearer_token_file (and/or basic auth), or remediator.insecure_no_auth: true to run without (not recommended)';
  }
  return undefined;
}
