import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../../shared/config/load-config.js';
import { ConfigError } from '../../../../shared/config/config-issues.js';
import { exporterSection } from '../../../../exporter/exporter-section.js';
import type { ExporterConfig } from '../../../../exporter/exporter-section.js';

const files = (text: string) => () => text;

function load(text: string | undefined, env: Record<string, string> = {}, flags: Record<string, string | true> = {}) {
  return loadConfig({
    file: text === undefined ? undefined : 'test.yaml',
    readFile: files(text ?? ''),
    env,
    flags: new Map(Object.entries(flags)),
    sections: [exporterSection],
  });
}

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.issues;
  }
  assert.fail('expected the config to be rejected');
}

test('built-in defaults give one target from OLLAMA_HOST and frozen durations in ms', () => {
  const cfg = load(undefined, { OLLAMA_HOST: '0.0.0.0:11500' });
  assert.deepEqual(cfg.ollama, [{ name: 'default', url: 'http://127.0.0.1:11500', headers: {} }]);
  assert.equal(cfg.gpu.interval_ms, 15_000);
  const exporter = cfg.exporter as ExporterConfig;
  assert.equal(exporter.listen_address, '127.0.0.1:9778');
  assert.equal(exporter.probe_load_timeout_ms, 360_000);
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.gpu) && Object.isFrozen(cfg.ollama[0]));
});

test('precedence is flag > env > file > default', () => {
  const yaml = 'gpu:\n  interval: 20s\n  timeout: 3s\n  max_processes_per_gpu: 7\n';
  const cfg = load(yaml, { SENTINEL_GPU_INTERVAL: '30s', SENTINEL_GPU_TIMEOUT: '4s' }, { 'gpu.interval': '40s' });
  assert.equal(cfg.gpu.interval_ms, 40_000);
  assert.equal(cfg.gpu.timeout_ms, 4_000);
  assert.equal(cfg.gpu.max_processes_per_gpu, 7);
  assert.equal(cfg.gpu.processes, true);
});

test('targets and models are validated and normalised', () => {
  const cfg = load(`
ollama:
  - name: main
    url: ollama:11434
    headers: {Authorization: "Bearer x"}
    container: {compose: {project: ai, service: ollama}}
  - name: swarm
    url: https://gpu2.example/ollama
    container: {swarm: {service: ai_ollama, stack: ai, stack_file: /srv/ai.yml}}
models:
  - name: llama3
    keep_warm: true
    options: {num_ctx: 8192}
  - name: gpt-oss:20b
    keep_alive: 10m
    targets: [main]
`);
  assert.equal(cfg.ollama[0]!.url, 'http://ollama:11434');
  assert.deepEqual(cfg.ollama[0]!.container, { kind: 'compose', project: 'ai', service: 'ollama' });
  assert.equal(cfg.ollama[1]!.url, 'https://gpu2.example:443/ollama');
  assert.equal(cfg.models[0]!.name, 'llama3:latest');
  assert.equal(cfg.models[0]!.keep_alive, -1, 'keep_warm models default to staying loaded');
  assert.deepEqual(cfg.models[0]!.options, { num_ctx: 8192 });
  assert.equal(cfg.models[1]!.keep_alive, '10m');
  assert.equal(cfg.models[1]!.min_vram_ratio, 0.9);
});

test('every problem is listed at once with a path and a fix', () => {
  const issues = issuesOf(() =>
    load(
      `
ollama:
  - name: 1bad
    url: ftp://x
  - name: ok
    url: 127.0.0.1:11434
    container: {compose: {project: a, service: b}, name: c}
models:
  - name: m
    keep_alive: "3600"
    min_vram_ratio: 2
    targets: [nope]
  - name: m:latest
gpu:
  intervall: 5s
  timeout: soon
exporter:
  max_concurrent_scrapes: 0
`,
      { SENTINEL_EXPORTER_NODE_METRICS: 'maybe' },
      { 'gpu.nope': '1' },
    ),
  );
  const paths = issues.map((i) => i.path);
  for (const p of [
    'ollama[0].name',
    'ollama[0].url',
    'ollama[1].container',
    'models[0].keep_alive',
    'models[0].min_vram_ratio',
    'models[0].targets',
    'models[1].name',
    'gpu.intervall',
    'gpu.timeout',
    'exporter.max_concurrent_scrapes',
    'SENTINEL_EXPORTER_NODE_METRICS',
    '--gpu.nope',
  ]) {
    assert.ok(paths.includes(p), `missing issue for ${p}; got ${paths.join(', ')}`);
  }
  assert.match(issues.find((i) => i.path === 'gpu.intervall')!.fix, /did you mean "interval"/);
  for (const i of issues) assert.ok(i.problem.length > 0 && i.fix.length > 0);
});

test('YAML syntax errors and unreadable files are config errors, not crashes', () => {
  const syntax = issuesOf(() => load('ollama: [\n  - name: x\n'));
  assert.match(syntax[0]!.problem, /YAML syntax error/);
  const missing = issuesOf(() => loadConfig({ file: '/nonexistent/x.yaml', env: {}, flags: new Map(), sections: [] }));
  assert.match(missing[0]!.problem, /ENOENT/);
});

test("other commands' sections are accepted in the shared file but unknown top-level keys are not", () => {
  const cfg = loadConfig({
    file: 'x',
    readFile: files('remediator: {dry_run: true}\n'),
    env: {},
    flags: new Map(),
    sections: [],
    otherSectionKeys: ['remediator'],
  });
  assert.equal(cfg.remediator, undefined);
  const issues = issuesOf(() =>
    loadConfig({
      file: 'x',
      readFile: files('remediater: {}\n'),
      env: {},
      flags: new Map(),
      sections: [],
      otherSectionKeys: ['remediator'],
    }),
  );
  assert.match(issues[0]!.fix, /did you mean "remediator"/);
});

test('the allowed top-level keys are listed once each, although several commands share a section', () => {
  const issues = issuesOf(() =>
    loadConfig({
      file: 'x',
      readFile: files('exportr: {}\n'),
      env: {},
      flags: new Map(),
      sections: [exporterSection],
      // What runCli passes: every command's sections (remediator and explain share one), this command's included.
      otherSectionKeys: ['exporter', 'remediator', 'init', 'remediator'],
    }),
  );
  const allowed = issues[0]!.fix.split('Allowed here: ')[1]!.split(', ');
  assert.deepEqual(allowed, [...new Set(allowed)], issues[0]!.fix);
  assert.ok(allowed.includes('remediator') && allowed.includes('exporter'));
});

test('a docker host that cannot be reached unambiguously is a config error, not a run-time stack trace', () => {
  const issues = issuesOf(() => load('docker: {host: "unix://run/docker.sock"}\n'));
  assert.deepEqual(
    issues.map((i) => [i.path, i.problem]),
    [['docker.host', 'docker host "unix://run/docker.sock": unix:// needs an absolute socket path']],
  );
  assert.equal(load('docker: {host: "tcp://127.0.0.1:2375"}\n').docker.host, 'tcp://127.0.0.1:2375');
  const env = issuesOf(() => load(undefined, { SENTINEL_DOCKER_HOST: 'tcp://127.0.0.1' }));
  assert.equal(env[0]!.path, 'docker.host');
});

test('days and weeks are durations wherever a value stays in the process; keep_alive stays a Go duration', () => {
  const cfg = load('gpu:\n  interval: 1d\n', { SENTINEL_GPU_TIMEOUT: '1w' });
  assert.equal(cfg.gpu.interval_ms, 86_400_000);
  assert.equal(cfg.gpu.timeout_ms, 604_800_000);
  // Ollama's Go server parses keep_alive itself: time.ParseDuration has no days.
  const issues = issuesOf(() => load('models:\n  - name: m\n    keep_alive: 1d\n'));
  assert.deepEqual(
    issues.map((i) => i.path),
    ['models[0].keep_alive'],
  );
});

test('a model named by digest is rejected with what is wrong and how to fix it; load_stall_timeout defaults to 5m', () => {
  const issues = issuesOf(() =>
    load(
      `models:\n  - name: llama3@sha256:${'a'.repeat(64)}\nollama:\n  - name: main\n    url: http://127.0.0.1:11434\n`,
    ),
  );
  const digest = issues.find((i) => i.path === 'models[0].name');
  assert.match(digest?.problem ?? '', /digest.*Ollama does not accept/);
  assert.match(digest?.fix ?? '', /ollama cp/);
  const ok = load(
    'ollama:\n  - name: a\n    url: http://127.0.0.1:11434\n  - name: b\n    url: http://127.0.0.1:11435\n    load_stall_timeout: 20m\n',
  );
  assert.deepEqual(
    ok.ollama.map((t) => t.load_stall_timeout_ms),
    [300_000, 1_200_000],
  );
  const bad = issuesOf(() =>
    load('ollama:\n  - name: a\n    url: http://127.0.0.1:11434\n    load_stall_timeout: soon\n'),
  );
  assert.ok(bad.some((i) => i.path === 'ollama[0].load_stall_timeout'));
});
