import { resolve } from 'node:path';
import type { TestEvent } from 'node:test/reporters';

/**
 * A `node --test` reporter that writes one line per test file: `<duration ms>\t<ok|not ok>\t<file>`.
 * test/run-all.sh sorts them into its "slowest test files" table, so the suite's growth stays visible.
 *
 * Node 20's TAP and spec reporters flatten each file's tests into the top level and never print the file's own
 * duration; only a custom reporter sees it: the `test:complete` event whose name is the file's path (each file
 * runs in its own process, and the runner reports that process as one test named after the file: its absolute path
 * on Node 20, the path as given on the command line on Node 24).
 */
export default async function* fileDurationsReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:complete') continue;
    const { name, file, nesting, details } = event.data;
    if (nesting !== 0 || file === undefined || resolve(name) !== file) continue;
    yield `${details.duration_ms.toFixed(0)}\t${details.passed ? 'ok' : 'not ok'}\t${file}\n`;
  }
}
