import type { ConfigIssue } from '../../shared/config/config-issues.js';
import { ConfigIssues } from '../../shared/config/config-issues.js';
import type { OllamaTargetConfig } from '../../shared/config/types.js';
import { checkListenFiles } from '../../shared/http/listen-settings.js';
import { checkSecretFile, readSecretFile } from '../../shared/http/secret-files.js';
import { checkCaFile } from '../../shared/http/tls-files.js';
import type { RemediatorConfig } from '../remediator-section.js';

/** The secrets the remediator uses, read once at start. */
export interface RemediatorSecrets {
  readonly bearerToken?: string;
  readonly basic?: { readonly username: string; readonly password: string };
  /** Authorization header value for the exporter's /api/state. */
  readonly exporterAuth?: string;
  readonly silenceToken?: string;
  readonly notifyToken?: string;
}

/**
 * Every file the remediator will read (secrets, its TLS pair, the targets' CA files), read now as it will be read:
 * a missing, unreadable, empty or malformed one is a configuration problem, reported with all the others before
 * anything is started or written.
 */
export function checkRemediatorFiles(
  cfg: RemediatorConfig,
  targets: readonly OllamaTargetConfig[],
  issues: ConfigIssues,
): void {
  checkListenFiles('remediator', cfg, issues);
  checkSecretFile('remediator.bearer_token_file', cfg.bearer_token_file, issues, 'the bearer token');
  checkSecretFile(
    'remediator.exporter_basic_auth_password_file',
    cfg.exporter_basic_auth_password_file,
    issues,
    "the exporter's basic auth password",
  );
  checkSecretFile(
    'remediator.silence.bearer_token_file',
    cfg.silence.bearer_token_file,
    issues,
    "Alertmanager's bearer token",
  );
  checkSecretFile(
    'remediator.notify.bearer_token_file',
    cfg.notify?.bearer_token_file,
    issues,
    'the bearer token of the notification webhook',
  );
  for (const [i, t] of targets.entries()) if (t.ca_file) checkCaFile(`ollama[${i}].ca_file`, t.ca_file, issues);
}

/** The problems checkRemediatorFiles finds, as a list. */
export function remediatorFileIssues(
  cfg: RemediatorConfig,
  targets: readonly OllamaTargetConfig[],
): readonly ConfigIssue[] {
  const issues = new ConfigIssues();
  checkRemediatorFiles(cfg, targets, issues);
  return issues.list;
}

/** Reads the secrets (checked at start-up; a file broken since then throws, naming it). */
export function readRemediatorSecrets(cfg: RemediatorConfig): RemediatorSecrets {
  const basicAuth = (user: string | undefined, file: string | undefined) =>
    user !== undefined && file !== undefined ? { username: user, password: readSecretFile(file) } : undefined;
  const basic = basicAuth(cfg.basic_auth_username, cfg.basic_auth_password_file);
  const exporter = basicAuth(cfg.exporter_basic_auth_username, cfg.exporter_basic_auth_password_file);
  return {
    ...(cfg.bearer_token_file ? { bearerToken: readSecretFile(cfg.bearer_token_file) } : {}),
    ...(basic ? { basic } : {}),
    ...(exporter
      ? { exporterAuth: `Basic ${Buffer.from(`${exporter.username}:${exporter.password}`).toString('base64')}` }
      : {}),
    ...(cfg.silence.bearer_token_file ? { silenceToken: readSecretFile(cfg.silence.bearer_token_file) } : {}),
    ...(cfg.notify?.bearer_token_file ? { notifyToken: readSecretFile(cfg.notify.bearer_token_file) } : {}),
  };
}
