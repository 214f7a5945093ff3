import type { ConfigIssues } from '../../shared/config/config-issues.js';
import { parseDuration } from '../../shared/config/parse-duration.js';
import { checkKeys, isRecord } from '../../shared/config/yaml-shapes.js';
import { urlProblem } from './validate-notify.js';

export interface SilenceConfig {
  readonly enabled: boolean;
  readonly alertmanager_url?: string;
  /** Upper bound of a silence: it expires by itself if the remediator dies while healing. */
  readonly duration_ms: number;
  readonly bearer_token_file?: string;
}

const DEFAULT_DURATION = '30m';

/** `remediator.silence`: an Alertmanager silence over the incident's alerts while it is being healed. */
export function validateSilence(raw: unknown, issues: ConfigIssues): SilenceConfig {
  const off: SilenceConfig = { enabled: false, duration_ms: parseDuration(DEFAULT_DURATION)! };
  if (raw === undefined || raw === null) return off;
  if (!isRecord(raw)) {
    issues.add(
      'remediator.silence',
      'must be a mapping',
      'write `silence: {enabled: true, alertmanager_url: http://127.0.0.1:9093}`',
    );
    return off;
  }
  checkKeys(raw, ['enabled', 'alertmanager_url', 'duration', 'bearer_token_file'], 'remediator.silence', issues);
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== 'boolean')
    issues.add('remediator.silence.enabled', 'must be true or false', 'write enabled: true');
  let url: string | undefined;
  if (raw.alertmanager_url !== undefined) {
    const problem = urlProblem(raw.alertmanager_url);
    if (problem) issues.add('remediator.silence.alertmanager_url', problem, 'write e.g. http://127.0.0.1:9093');
    else url = (raw.alertmanager_url as string).replace(/\/+$/, '');
  } else if (enabled === true) {
    issues.add(
      'remediator.silence.alertmanager_url',
      'is required when silences are enabled',
      'write the Alertmanager base URL, e.g. http://127.0.0.1:9093',
    );
  }
  const duration = parseDuration(raw.duration ?? DEFAULT_DURATION);
  if (duration === null || duration < 60_000)
    issues.add(
      'remediator.silence.duration',
      `${JSON.stringify(raw.duration)} is not a duration of at least 1m`,
      'write e.g. 30m (the silence expires by itself after it)',
    );
  if (raw.bearer_token_file !== undefined && typeof raw.bearer_token_file !== 'string')
    issues.add(
      'remediator.silence.bearer_token_file',
      'must be a file path',
      'write the path of a file holding the token',
    );
  return {
    enabled: enabled === true,
    ...(url ? { alertmanager_url: url } : {}),
    duration_ms: duration ?? parseDuration(DEFAULT_DURATION)!,
    ...(typeof raw.bearer_token_file === 'string' ? { bearer_token_file: raw.bearer_token_file } : {}),
  };
}
