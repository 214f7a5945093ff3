import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { command, EXIT_NOT_HANDLED } from '../../../remediator/explain-command.js';
import { createLogger } from '../../../shared/log/create-logger.js';
import { loadRemediatorConfig } from '../../helpers/load-remediator-config.js';

const YAML = `
ollama:
  - {name: main, url: "http://127.0.0.1:1", container: {compose: {project: ai, service: ollama}}}
  - {name: lab, url: "http://127.0.0.1:2", container: {swarm: {service: ollama, stack: lab}}}
models:
  - {name: llama3, keep_warm: true}
remediator:
  quiet_hours:
    night: {timezone: Europe/Berlin, cron: ["* * 22-23,0-5 * * *"]}
  rules:
    - {name: gpu-lost, match: {alertname: OllamaGpuAccessLost}, ladder: [restart_container, recreate_container], quiet: night}
    - {name: hung, match_re: {alertname: "OllamaRunner(Hung|Stuck)"}, dry_run: true}
`;

async function explain(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { all } = loadRemediatorConfig(YAML);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c));
  stderr.on('data', (c: Buffer) => (err += c));
  const options = new Map<string, string | true | string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--label') options.set('label', [...((options.get('label') as string[]) ?? []), args[++i]!]);
    else if (a === '--at') options.set('at', args[++i]!);
    else if (a === '--json') options.set('json', true);
    else positionals.push(a);
  }
  const code = await command.run({
    config: all,
    options,
    positionals,
    log: createLogger('silent'),
    env: {},
    stdout,
    stderr,
    shutdown: new AbortController().signal,
  });
  return { code, out, err };
}

describe('explain command', () => {
  it('shows target, rule, quiet status and the fixed ladder; in the window it says deferred until 06:00 local', async () => {
    const r = await explain([
      '--label',
      'alertname=OllamaGpuAccessLost',
      '--label',
      'ollama=main',
      '--at',
      '2026-03-29T01:30:00+01:00',
    ]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^target: +main \(compose project ai, service ollama\)$/m);
    assert.match(r.out, /^rule: +gpu-lost \(alertname="OllamaGpuAccessLost"\)$/m);
    assert.match(r.out, /^quiet: +night \(Europe\/Berlin, defer\): quiet now, until 2026-03-29T04:00:00.000Z$/m);
    assert.match(r.out, /^ladder: +restart_container -> recreate_container/m);
    assert.match(r.out, /^verdict: +deferred until 2026-03-29T04:00:00.000Z/m);
    const day = await explain(['alertname=OllamaGpuAccessLost', 'ollama=main', '--at', '2026-03-29T12:00:00Z']);
    assert.match(day.out, /not quiet now/);
    assert.match(day.out, /verdict: +would diagnose the target, then act/);
  });

  it('shows the ladders the diagnosis would choose for a rule without one, per deployment kind', async () => {
    const r = await explain(['alertname=OllamaRunnerStuck', 'ollama=lab']);
    assert.equal(r.code, 0);
    assert.match(r.out, /dry-run: +yes/);
    assert.match(r.out, /restart +force_update_service$/m);
    assert.match(r.out, /reload +reload -> kill_runner -> force_update_service$/m);
    assert.match(r.out, /escalate +.*never a restart/);
  });

  it('exits 3 for alerts it would refuse, and 2 for malformed labels', async () => {
    const noTarget = await explain(['alertname=OllamaGpuAccessLost', 'ollama=$(reboot)']);
    assert.equal(noTarget.code, EXIT_NOT_HANDLED);
    assert.match(noTarget.out, /not a declared target/);
    const noRule = await explain(['alertname=Other', 'ollama=main']);
    assert.equal(noRule.code, EXIT_NOT_HANDLED);
    assert.match(noRule.out, /rule: +none matches/);
    const bad = await explain(['justtext']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /not a label/);
  });

  it('prints JSON on request', async () => {
    const r = await explain(['--json', 'alertname=OllamaGpuAccessLost', 'ollama=main', '--at', '2026-06-01T12:00:00Z']);
    const doc = JSON.parse(r.out) as { rule: { name: string }; target: { name: string }; quiet: { quietNow: boolean } };
    assert.equal(doc.rule.name, 'gpu-lost');
    assert.equal(doc.target.name, 'main');
    assert.equal(doc.quiet.quietNow, false);
  });
});
