/** One problem found in the configuration: where, what is wrong, and how to fix it. */
export interface ConfigIssue {
  readonly path: string;
  readonly problem: string;
  readonly fix: string;
}

/** Collects every problem so a bad config is reported once, completely (fastify's initial-config-validation). */
export class ConfigIssues {
  readonly list: ConfigIssue[] = [];

  add(path: string, problem: string, fix: string): void {
    this.list.push({ path, problem, fix });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

export class ConfigError extends Error {
  constructor(
    readonly issues: readonly ConfigIssue[],
    source: string,
  ) {
    super(
      `invalid configuration (${source}): ${issues.length} problem${issues.length === 1 ? '' : 's'}\n` +
        issues.map((i) => `  - ${i.path}: ${i.problem}\n      fix: ${i.fix}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}
