import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRules, matchRule } from '../../../../remediator/policy/match-rule.js';
import { resolveTarget } from '../../../../remediator/policy/resolve-target.js';
import type { RuleConfig } from '../../../../remediator/remediator-section.js';

const rule = (name: string, match: Record<string, string> = {}, match_re: Record<string, string> = {}): RuleConfig => ({
  name,
  match,
  match_re,
  start: 'auto',
  quiet_mode: 'defer',
  model_label: 'model',
});

describe('matchRule', () => {
  const rules = compileRules([
    rule('exact', { alertname: 'OllamaProbeHung', severity: 'critical' }),
    rule('regex', {}, { alertname: 'Ollama(Api|Probe).*', instance: 'gpu-host-\\d+:9778' }),
    rule('absent', { team: '' }, { alertname: 'Gpu.*' }),
    rule('catch-all'),
  ]);
  const name = (labels: Record<string, string>) => matchRule(rules, labels)?.rule.name;

  it('first matching rule wins; every matcher must hold', () => {
    assert.equal(name({ alertname: 'OllamaProbeHung', severity: 'critical', instance: 'gpu-host-1:9778' }), 'exact');
    assert.equal(name({ alertname: 'OllamaProbeHung', severity: 'warning', instance: 'gpu-host-1:9778' }), 'regex');
    assert.equal(name({ alertname: 'OllamaProbeHung', severity: 'warning', instance: 'other:9778' }), 'catch-all');
  });

  it('regexes are anchored at both ends, like Alertmanager =~', () => {
    assert.equal(name({ alertname: 'XOllamaApiDown', instance: 'gpu-host-1:9778' }), 'catch-all');
    assert.equal(name({ alertname: 'OllamaApiDown', instance: 'gpu-host-1:9778x' }), 'catch-all');
    assert.equal(name({ alertname: 'OllamaApiDown', instance: 'gpu-host-12:9778' }), 'regex');
  });

  it('a missing label equals the empty string; inherited properties are not labels', () => {
    assert.equal(name({ alertname: 'GpuLost' }), 'absent');
    assert.equal(name({ alertname: 'GpuLost', team: 'ml' }), 'catch-all');
    const r = compileRules([rule('proto', { constructor: '' })]);
    assert.equal(matchRule(r, {})?.rule.name, 'proto', 'Object.prototype.constructor is not the label "constructor"');
  });

  it('label values are compared as data, even full of shell and regex metacharacters', () => {
    const r = compileRules([rule('literal', { ollama: '$(id); `x` | .* && \\' })]);
    assert.equal(matchRule(r, { ollama: '$(id); `x` | .* && \\' })?.rule.name, 'literal');
    assert.equal(matchRule(r, { ollama: 'main' }), undefined);
  });
});

describe('resolveTarget', () => {
  it('takes the target label when it names a declared target', () => {
    assert.deepEqual(resolveTarget({ ollama: 'lab' }, 'ollama', ['main', 'lab'], true), { target: 'lab' });
  });
  it('refuses an undeclared or missing target, except the single-target default', () => {
    const unknown = resolveTarget({ ollama: 'x' }, 'ollama', ['main', 'lab'], true);
    assert.ok('refused' in unknown && unknown.refused === 'unknown_target');
    const missing = resolveTarget({}, 'ollama', ['main', 'lab'], true);
    assert.ok('refused' in missing && missing.refused === 'no_target_label');
    assert.deepEqual(resolveTarget({}, 'ollama', ['main'], true), { target: 'main' });
    const off = resolveTarget({}, 'ollama', ['main'], false);
    assert.ok('refused' in off && off.refused === 'no_target_label');
    const wrongWithOne = resolveTarget({ ollama: 'other' }, 'ollama', ['main'], true);
    assert.ok('refused' in wrongWithOne, 'a wrong label is never defaulted');
  });
});
