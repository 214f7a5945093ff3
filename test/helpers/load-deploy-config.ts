import { readFileSync } from 'node:fs';
import { loadConfig, type LoadedConfig } from '../../shared/config/load-config.js';
import { exporterSection } from '../../exporter/exporter-section.js';
import { remediatorSection } from '../../remediator/remediator-section.js';
import { initSection } from '../../shared/init/init-section.js';
import { repoPath } from './repo-path.js';

/** A shipped configuration file validated the way the CLI does, with every command's section (throws ConfigError). */
export function loadDeployConfig(path: string, env: Record<string, string> = {}): LoadedConfig {
  return loadConfig({
    file: path,
    readFile: () => readFileSync(repoPath(path), 'utf8'),
    flags: new Map(),
    env,
    sections: [exporterSection, remediatorSection, initSection],
  });
}
