import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../shared/config/config-issues.js';
import { authProblem } from '../../../remediator/remediator-section.js';
import { selfConflicts } from '../../../remediator/config/validate-self.js';
import { loadRemediatorConfig } from '../../helpers/load-remediator-config.js';

const TARGETS = `
ollama:
  - name: main
    url: http://127.0.0.1:11434
    container: {name: ollama}
  - name: swarm
    url: http://127.0.0.1:11435
    container: {swarm: {service: ollama, stack: ai}}
models:
  - name: llama3
    keep_warm: true
`;

function problems(yaml: string): string[] {
  try {
    loadRemediatorConfig(yaml);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.problem}`);
  }
  return [];
}

describe('remediator config section', () => {
  it('has safe defaults: loopback listener, auth required, 1 MiB bodies, real actions', () => {
    const { cfg } = loadRemediatorConfig(TARGETS);
    assert.equal(cfg.listen_address, '127.0.0.1:9779');
    assert.equal(cfg.insecure_no_auth, false);
    assert.equal(cfg.max_body_bytes, 1024 * 1024);
    assert.equal(cfg.cooldown_ms, 10 * 60_000);
    assert.equal(cfg.breaker_window_ms, 3_600_000);
    assert.equal(cfg.max_attempts_per_incident, 3);
    assert.equal(cfg.breaker_max_actions, 5);
    assert.equal(cfg.target_label, 'ollama');
    assert.equal(cfg.dry_run, false);
    assert.deepEqual(cfg.rules, []);
    assert.deepEqual(cfg.silence.enabled, false);
    assert.equal(cfg.notify, undefined);
    assert.match(authProblem(cfg)?.problem ?? '', /no credentials/);
  });

  it('reads rules, quiet hours, schedules, self, silence and notify; env overrides scalars', () => {
    const { cfg } = loadRemediatorConfig(
      `${TARGETS}
remediator:
  bearer_token_file: /run/secrets/token
  cooldown: 5m
  quiet_hours:
    night: {timezone: Europe/Berlin, cron: ["* * 22-23,0-5 * * *"]}
  rules:
    - name: gpu-lost
      match: {alertname: OllamaGpuAccessLost}
      match_re: {severity: "critical|page"}
      ladder: [restart_container, recreate_container]
      start: auto
      quiet: night
      quiet_mode: drop
    - name: catch-all
  schedules:
    - {name: morning, cron: "0 50 7 * * 1-5", timezone: Europe/Berlin, targets: [main], models: [llama3]}
  self: {container: /sentinel-remediator}
  silence: {alertmanager_url: "http://127.0.0.1:9093/", duration: 20m}
  notify: {url: "http://127.0.0.1:9999/hook"}
`,
      { SENTINEL_REMEDIATOR_DRY_RUN: 'true' },
    );
    assert.equal(cfg.cooldown_ms, 300_000);
    assert.equal(cfg.dry_run, true);
    assert.equal(authProblem(cfg), undefined);
    assert.deepEqual(cfg.rules[0], {
      name: 'gpu-lost',
      match: { alertname: 'OllamaGpuAccessLost' },
      match_re: { severity: 'critical|page' },
      ladder: ['restart_container', 'recreate_container'],
      start: 'auto',
      quiet: 'night',
      quiet_mode: 'drop',
      model_label: 'model',
    });
    assert.equal(cfg.rules[1]!.quiet_mode, 'defer');
    assert.deepEqual(cfg.quiet_hours.night, { timezone: 'Europe/Berlin', cron: ['* * 22-23,0-5 * * *'] });
    assert.deepEqual(cfg.schedules[0], {
      name: 'morning',
      cron: '0 50 7 * * 1-5',
      timezone: 'Europe/Berlin',
      action: 'warm_up',
      targets: ['main'],
      models: ['llama3:latest'],
    });
    assert.deepEqual(cfg.self, { container: 'sentinel-remediator' });
    assert.deepEqual(cfg.silence, { enabled: true, alertmanager_url: 'http://127.0.0.1:9093', duration_ms: 1_200_000 });
    assert.deepEqual(cfg.notify, { url: 'http://127.0.0.1:9999/hook', timeout_ms: 5000 });
    assert.ok(Object.isFrozen(cfg.rules[0]), 'the config is frozen');
  });

  it('lists every problem at once, each with its path', () => {
    const found = problems(`${TARGETS}
remediator:
  quiet_hours:
    night: {timezone: Mars/Olympus, cron: ["* * 25 * * *", "30 * * * * *", "nope"]}
  rules:
    - name: bad
      match: {"bad-label": x, ok: 3}
      match_re: {alertname: "Gpu(Lost"}
      ladder: [restart_container, reboot_host, restart_container]
      start: warm_up
      quiet: weekend
      quiet_mode: later
      modle_label: m
    - name: bad
  schedules:
    - {name: s, cron: "0 61 7 * * *", timezone: Nowhere/City, action: restart_container, targets: [ghost], models: [nothere]}
  silence: {enabled: true}
  notify: {url: "ftp://x"}
`);
    const expect = [
      /^remediator\.quiet_hours\.night\.timezone: .*Mars\/Olympus/,
      /^remediator\.quiet_hours\.night\.cron\[0\]: invalid cron/,
      /^remediator\.quiet_hours\.night\.cron\[1\]: .*second 0/,
      /^remediator\.quiet_hours\.night\.cron\[2\]: invalid cron/,
      /^remediator\.rules\[0\]\.modle_label: unknown key/,
      /^remediator\.rules\[0\]\.match\.bad-label: is not a valid label name/,
      /^remediator\.rules\[0\]\.match\.ok: expected text/,
      /^remediator\.rules\[0\]\.match_re\.alertname: bad regular expression/,
      /^remediator\.rules\[0\]\.ladder\[1\]: unknown action "reboot_host"/,
      /^remediator\.rules\[0\]\.ladder\[2\]: "restart_container" appears twice/,
      /^remediator\.rules\[0\]\.start: "warm_up" is not in the ladder/,
      /^remediator\.rules\[0\]\.quiet: unknown quiet window "weekend"/,
      /^remediator\.rules\[0\]\.quiet_mode: "later" is not defer or drop/,
      /^remediator\.rules\[1\]\.name: duplicate rule name/,
      /^remediator\.schedules\[0\]\.cron: invalid cron/,
      /^remediator\.schedules\[0\]\.timezone: /,
      /^remediator\.schedules\[0\]\.action: "restart_container" cannot be scheduled/,
      /^remediator\.schedules\[0\]\.targets\[0\]: unknown name "ghost"/,
      /^remediator\.schedules\[0\]\.models\[0\]: unknown name "nothere"/,
      /^remediator\.silence\.alertmanager_url: is required/,
      /^remediator\.notify\.url: .*not http/,
    ];
    for (const re of expect)
      assert.ok(
        found.some((p) => re.test(p)),
        `missing ${re} in:\n${found.join('\n')}`,
      );
    assert.equal(found.length, expect.length, found.join('\n'));
  });

  it('rejects a start step without a ladder and an unknown key with a suggestion', () => {
    const found = problems(`${TARGETS}
remediator:
  coldown: 5m
  rules:
    - {name: r, start: reload}
`);
    assert.ok(found.some((p) => /^remediator\.coldown: unknown key/.test(p)));
    assert.ok(found.some((p) => /^remediator\.rules\[0\]\.start: names a step but the rule has no ladder/.test(p)));
  });

  it('refuses half-configured basic auth and accepts an explicit opt-out', () => {
    // Half a pair is refused when the config is loaded, with every other problem.
    assert.throws(
      () => loadRemediatorConfig(`${TARGETS}\nremediator: {basic_auth_username: am}\n`),
      /remediator\.basic_auth_password_file: basic auth needs both/,
    );
    const open = loadRemediatorConfig(`${TARGETS}\nremediator: {insecure_no_auth: true}\n`).cfg;
    assert.equal(authProblem(open), undefined);
  });

  it('finds targets that are the remediator itself', () => {
    const { all } = loadRemediatorConfig(TARGETS);
    assert.deepEqual(selfConflicts({}, all.ollama), []);
    assert.equal(selfConflicts({ container: 'ollama' }, all.ollama).length, 1);
    assert.equal(selfConflicts({ swarm_service: 'ai_ollama' }, all.ollama).length, 1);
    // A target in the remediator's own stack is refused only when it could be redeployed (stack_file): the shipped
    // single-host stack runs Ollama and the remediator side by side and force-updates only the Ollama service.
    assert.deepEqual(selfConflicts({ stack: 'ai' }, all.ollama), []);
    const redeployable = all.ollama.map((t) =>
      t.container?.kind === 'swarm' ? { ...t, container: { ...t.container, stack_file: '/etc/ai.yml' } } : t,
    );
    assert.match(selfConflicts({ stack: 'ai' }, redeployable)[0]!, /own stack "ai" and names a stack_file/);
  });
});
