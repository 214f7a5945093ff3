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

// Go's time.ParseDuration grammar; "0" is the only unitless string it accepts.
const GO_DURATION = /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

/**
 * Checks a keep_alive value the way Ollama's JSON decoder will read it (api/types.go Duration.UnmarshalJSON):
 * a number is seconds (negative = forever, 0 = unload), a string must be a Go duration with a unit. A unitless
 * string such as "3600" or "-1" is answered with HTTP 400, so it is refused here with a hint instead.
 */
export function keepAliveJson(value: string | number): string | number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`keep_alive ${value} is not a finite number of seconds`);
    return value;
  }
  if (typeof value !== 'string') throw new Error(`keep_alive must be a number of seconds or a duration string`);
  if (!GO_DURATION.test(value)) {
    const hint = /^[-+]?\d+(\.\d+)?$/.test(value.trim())
      ? ` (a string needs a unit such as "${value.trim()}s"; write the number ${value.trim()} for seconds)`
      : ' (expected a Go duration such as "10m", "24h" or "-1m", or a number of seconds)';
    throw new Error(`keep_alive "${value}" is not a valid duration${hint}`);
  }
  return value;
}
