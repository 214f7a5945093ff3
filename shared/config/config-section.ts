import type { ConfigIssues } from './config-issues.js';
import type { ScalarSchema } from './scalar-field.js';

/** Context handed to section validators: the whole parsed document, for cross-references (e.g. target names). */
export interface SectionContext {
  readonly targetNames: readonly string[];
  readonly modelNames: readonly string[];
}

/**
 * A top-level mapping of the YAML file (log, gpu, exporter, remediator, ...). Its scalars can be overridden by
 * environment variables and flags; `complex` validates the lists and maps that only the file can hold.
 */
export interface ConfigSection {
  readonly key: string;
  readonly doc: string;
  readonly scalars: ScalarSchema;
  readonly complexKeys?: readonly string[];
  /** Cross-field checks on the final scalar values (after env and flag overrides), keyed as stored. */
  readonly check?: (values: Readonly<Record<string, unknown>>, issues: ConfigIssues) => void;
  /** `scalars`: the section's final scalar values (as `check` gets them), for checks that span both. */
  readonly complex?: (
    raw: Readonly<Record<string, unknown>>,
    issues: ConfigIssues,
    ctx: SectionContext,
    scalars: Readonly<Record<string, unknown>>,
  ) => Record<string, unknown>;
}
