import { keepAliveJson } from './keep-alive-json.js';

export interface ModelRequestFields {
  readonly model: string;
  readonly keep_alive: string | number;
  readonly options: Record<string, unknown>;
}

/** What requests take from a configured model (shared/config's ModelConfig, which this library does not import). */
export interface ConfiguredModel {
  readonly name: string;
  readonly keep_alive: string | number;
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * The request fields every component (probe, warm-up, init) sends for a configured model. They must be identical
 * everywhere: Ollama reloads a resident model when runner options differ (sched.go needsReload), and an explicit
 * keep_alive re-arms the unload timer, so a caller that sent its own values would undo the pinning.
 */
export function modelRequestFields(model: ConfiguredModel): ModelRequestFields {
  return {
    model: model.name,
    keep_alive: keepAliveJson(model.keep_alive),
    options: { ...model.options },
  };
}
