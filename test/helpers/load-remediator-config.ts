import { loadConfig, type LoadedConfig } from '../../shared/config/load-config.js';
import { remediatorSection, type RemediatorConfig } from '../../remediator/remediator-section.js';

/** Test helper: validates a YAML text the way the CLI does, with only the remediator's section. */
export function loadRemediatorConfig(
  yaml: string,
  env: Record<string, string> = {},
  flags: [string, string][] = [],
): { all: LoadedConfig; cfg: RemediatorConfig } {
  const all = loadConfig({
    file: 'test.yaml',
    readFile: () => yaml,
    flags: new Map(flags),
    env,
    sections: [remediatorSection],
  });
  return { all, cfg: all.remediator as RemediatorConfig };
}
