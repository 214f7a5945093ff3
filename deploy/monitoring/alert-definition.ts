import type { AlertName } from './monitoring-config.js';

export type AlertGroup = 'exporter' | 'gpu' | 'ollama';

/** One alert's expression and texts; severity, `for:` and remediate come from monitoring-config.ts. */
export interface AlertDefinition {
  readonly name: AlertName;
  readonly group: AlertGroup;
  readonly expr: string;
  /** Adds the target label (`ollama` by default) from the series' `target` label, for routing and the remediator. */
  readonly perTarget: boolean;
  /** Headline, close to static (monitoring-mixins guideline). */
  readonly summary: string;
  /** Templated per alert instance. */
  readonly description: string;
  /** Runbook text: what it means, then what to do. Rendered into runbook.md. */
  readonly meaning: string;
  readonly steps: readonly string[];
}
