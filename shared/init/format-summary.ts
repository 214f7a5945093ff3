import type { VerifyModelResult } from '../provision/verify-model.js';
import { formatDurationMs } from './init-progress.js';
import { INIT_EXIT, type ModelOutcome, type TargetOutcome } from './init-outcome.js';

const EXIT_MEANING: Record<number, string> = {
  [INIT_EXIT.OK]: 'every model ready',
  [INIT_EXIT.FAILURE]: 'interrupted or unexpected failure',
  [INIT_EXIT.UNREACHABLE]: 'Ollama unreachable before the deadline',
  [INIT_EXIT.FETCH_FAILED]: 'pull or create failed',
  [INIT_EXIT.VERIFY_FAILED]: 'verification failed',
  [INIT_EXIT.CHECK_UNSATISFIED]: '--check not satisfied by the deadline',
};

/** The end-of-run table on stderr: per target and model, what happened and how long it took. */
export function formatSummary(targets: readonly TargetOutcome[], exitCode: number): string {
  const lines = ['init summary:'];
  for (const t of targets) {
    const wait = t.wait.ok
      ? `Ollama ${t.wait.version ?? '?'} up after ${formatDurationMs(t.wait.waitedMs)} (${plural(t.wait.attempts, 'attempt')})`
      : `UNREACHABLE: ${t.wait.problem ?? 'no answer'} (${plural(t.wait.attempts, 'attempt')} in ${formatDurationMs(t.wait.waitedMs)})`;
    lines.push(`  target ${t.target} (${t.url}): ${wait}`);
    if (t.wait.ok && t.models.length === 0) lines.push('    (no models configured for this target)');
    const width = Math.min(40, Math.max(0, ...t.models.map((m) => m.model.length)));
    for (const m of t.models) lines.push(`    ${m.model.padEnd(width)}  ${describeModel(m)}`);
  }
  lines.push(`init: exit ${exitCode} (${EXIT_MEANING[exitCode] ?? 'failed'})`);
  return lines.join('\n') + '\n';
}

function describeModel(m: ModelOutcome): string {
  const parts: string[] = [];
  if (m.fetch?.ok === true) {
    const r = m.fetch.result;
    if (r.action === 'present') parts.push('present');
    else {
      let text = `${r.action} in ${formatDurationMs(r.durationMs)}`;
      if (r.attempts > 1) text += ` (${plural(r.attempts, 'attempt')})`;
      if (r.base)
        text += `, base ${r.base.model} ${r.base.action === 'present' ? 'present' : `pulled in ${formatDurationMs(r.base.durationMs)}`}`;
      parts.push(text);
    }
  } else if (m.fetch?.ok === false) {
    const f = m.fetch;
    parts.push(
      `${f.stage} FAILED after ${plural(f.attempts, 'attempt')}${f.permanent ? ' (permanent, not retried)' : ''} in ${formatDurationMs(f.durationMs)}: ${f.problem}`,
    );
  }
  if (m.verify) parts.push(describeVerify(m.verify));
  if (m.check) {
    parts.push(
      m.check.ok
        ? `ready (checked in ${formatDurationMs(m.check.durationMs)})`
        : `NOT READY at the deadline: ${m.check.problem ?? 'unknown'}`,
    );
  }
  return parts.join('; ') || 'not processed';
}

function describeVerify(v: VerifyModelResult): string {
  if (v.skipped !== undefined) return v.skipped;
  const after = v.unloaded
    ? ', unloaded'
    : v.wasResident
      ? ', left loaded (was already loaded)'
      : ', left loaded (keep_warm)';
  if (!v.ok) return `verification FAILED (${v.stage ?? 'load'}): ${v.problem ?? 'unknown'}${after}`;
  const ratio = v.offload?.ratio !== undefined ? `${Math.floor(v.offload.ratio * 1000) / 10}% in VRAM` : 'in VRAM';
  const load = v.loadMs !== undefined ? `, loaded in ${formatDurationMs(v.loadMs)}` : '';
  const answer = v.generateMs !== undefined ? `, answered in ${formatDurationMs(v.generateMs)}` : '';
  return `verified: ${ratio}${load}${answer}${after}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
