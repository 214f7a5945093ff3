import type { ConfigIssues } from './config-issues.js';
import type { ContainerSelector, OllamaTargetConfig } from './types.js';
import { parseOllamaHost } from '../ollama/parse-ollama-host.js';
import { isRecord, checkKeys } from './yaml-shapes.js';
import { parseDuration } from './parse-duration.js';

/**
 * Default `load_stall_timeout`: like Ollama's OLLAMA_LOAD_TIMEOUT (5m, envconfig LoadTimeout), it limits a load that
 * makes no progress, never the total load time (a 70B model from a slow disk may load for many minutes).
 */
export const DEFAULT_LOAD_STALL_TIMEOUT_MS = 5 * 60_000;

export const TARGET_NAME_RE = /^[a-zA-Z][a-zA-Z0-9_.-]{0,62}$/;

/** The `ollama:` list. Without one, a single target named "default" at OLLAMA_HOST (or 127.0.0.1:11434). */
export function validateTargets(
  raw: unknown,
  issues: ConfigIssues,
  env: Readonly<Record<string, string | undefined>>,
): OllamaTargetConfig[] {
  if (raw === undefined || raw === null) {
    try {
      return [{ name: 'default', url: parseOllamaHost(env.OLLAMA_HOST ?? '').url, headers: {} }];
    } catch (err) {
      issues.add(
        'OLLAMA_HOST',
        (err as Error).message,
        'set OLLAMA_HOST to host[:port] or a URL, or declare targets under ollama:',
      );
      return [];
    }
  }
  if (!Array.isArray(raw)) {
    issues.add('ollama', 'must be a list of targets', 'write `ollama:` followed by `- name: ... url: ...` items');
    return [];
  }
  const seen = new Set<string>();
  const out: OllamaTargetConfig[] = [];
  raw.forEach((item, i) => {
    const path = `ollama[${i}]`;
    if (!isRecord(item)) {
      issues.add(path, 'must be a mapping with name and url', 'write `- name: main` and `url: http://127.0.0.1:11434`');
      return;
    }
    checkKeys(item, ['name', 'url', 'headers', 'ca_file', 'container', 'load_stall_timeout'], path, issues);
    const name = item.name;
    if (typeof name !== 'string' || !TARGET_NAME_RE.test(name)) {
      issues.add(
        `${path}.name`,
        `${JSON.stringify(name)} is not a valid target name`,
        'use letters, digits, "_", "-" or ".", starting with a letter (it becomes a metric label)',
      );
    } else if (seen.has(name)) {
      issues.add(`${path}.name`, `duplicate target name "${name}"`, 'give every target its own name');
    } else seen.add(name);
    let url = '';
    if (item.url === undefined)
      issues.add(
        `${path}.url`,
        'is required',
        'write the URL the way OLLAMA_HOST takes it, e.g. http://127.0.0.1:11434',
      );
    else
      try {
        url = parseOllamaHost(typeof item.url === 'string' ? item.url : '').url;
        if (item.url !== undefined && typeof item.url !== 'string')
          throw new Error(`expected text, got ${JSON.stringify(item.url)}`);
      } catch (err) {
        issues.add(
          `${path}.url`,
          (err as Error).message,
          'write the URL the way OLLAMA_HOST takes it, e.g. http://127.0.0.1:11434 or ollama:11434',
        );
      }
    const headers: Record<string, string> = {};
    if (item.headers !== undefined) {
      if (!isRecord(item.headers))
        issues.add(
          `${path}.headers`,
          'must be a mapping of header name to value',
          'write e.g. `headers: {Authorization: "Bearer TOKEN"}`',
        );
      else
        for (const [k, v] of Object.entries(item.headers)) {
          if (typeof v !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k))
            issues.add(
              `${path}.headers.${k}`,
              'header names must be tokens and values text',
              'quote the value; remove characters not allowed in header names',
            );
          else headers[k] = v;
        }
    }
    if (item.ca_file !== undefined && typeof item.ca_file !== 'string')
      issues.add(`${path}.ca_file`, 'must be a file path', 'write the path of a PEM file');
    const container = validateSelector(item.container, `${path}.container`, issues);
    const stallMs =
      item.load_stall_timeout === undefined ? DEFAULT_LOAD_STALL_TIMEOUT_MS : parseDuration(item.load_stall_timeout);
    if (stallMs === null || stallMs < 1000)
      issues.add(
        `${path}.load_stall_timeout`,
        `${JSON.stringify(item.load_stall_timeout)} is not a duration of at least 1s`,
        'write how long a model load may make no progress at all before it counts as stalled, e.g. 5m (the default, like OLLAMA_LOAD_TIMEOUT)',
      );
    out.push({
      name: typeof name === 'string' ? name : '',
      url,
      headers,
      load_stall_timeout_ms: stallMs !== null && stallMs >= 1000 ? stallMs : DEFAULT_LOAD_STALL_TIMEOUT_MS,
      ...(typeof item.ca_file === 'string' ? { ca_file: item.ca_file } : {}),
      ...(container ? { container } : {}),
    });
  });
  if (raw.length === 0)
    issues.add('ollama', 'the list is empty', 'declare at least one target, or remove `ollama:` to use OLLAMA_HOST');
  return out;
}

function validateSelector(raw: unknown, path: string, issues: ConfigIssues): ContainerSelector | undefined {
  if (raw === undefined) return undefined;
  const fix =
    'write exactly one of `compose: {project: P, service: S}`, `swarm: {service: S, stack: ST, stack_file: F}` or `name: CONTAINER`';
  if (!isRecord(raw)) {
    issues.add(path, 'must be a mapping', fix);
    return undefined;
  }
  const kinds = ['compose', 'swarm', 'name'].filter((k) => raw[k] !== undefined);
  checkKeys(raw, ['compose', 'swarm', 'name'], path, issues);
  if (kinds.length !== 1) {
    issues.add(path, kinds.length === 0 ? 'names no container' : `names ${kinds.join(' and ')} at once`, fix);
    return undefined;
  }
  const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  if (kinds[0] === 'name') {
    if (!text(raw.name)) issues.add(`${path}.name`, 'must be a container name', fix);
    return text(raw.name) ? { kind: 'container', name: raw.name } : undefined;
  }
  if (kinds[0] === 'compose') {
    const c = raw.compose;
    if (!isRecord(c) || !text(c.project) || !text(c.service)) {
      issues.add(
        `${path}.compose`,
        'needs project and service',
        'write `compose: {project: myproject, service: ollama}` (the com.docker.compose.* labels)',
      );
      return undefined;
    }
    checkKeys(c, ['project', 'service'], `${path}.compose`, issues);
    return { kind: 'compose', project: c.project, service: c.service };
  }
  const s = raw.swarm;
  if (!isRecord(s) || !text(s.service)) {
    issues.add(
      `${path}.swarm`,
      'needs service',
      'write `swarm: {service: mystack_ollama, stack: mystack, stack_file: /path/stack.yml}`',
    );
    return undefined;
  }
  checkKeys(s, ['service', 'stack', 'stack_file'], `${path}.swarm`, issues);
  if (s.stack !== undefined && !text(s.stack))
    issues.add(`${path}.swarm.stack`, 'must be a stack name', 'write the name given to `docker stack deploy`');
  if (s.stack_file !== undefined && !text(s.stack_file))
    issues.add(`${path}.swarm.stack_file`, 'must be a file path', 'write the path of the stack (compose) file');
  if (s.stack_file !== undefined && s.stack === undefined)
    issues.add(
      `${path}.swarm.stack`,
      'stack_file is set but stack is not',
      'add the stack name the file is deployed as',
    );
  return {
    kind: 'swarm',
    service: s.service,
    ...(text(s.stack) ? { stack: s.stack } : {}),
    ...(text(s.stack_file) ? { stack_file: s.stack_file } : {}),
  };
}
