import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderFastRules } from './render-fast-rules.js';

/**
 * `node dist/deploy/demo/write-fast-rules.js OUT_FILE [--max-for 30s]`: writes the fast rules variant for the demo's
 * Prometheus (run-demo.sh). Exit 2 on bad usage.
 */
function main(argv: readonly string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { 'max-for': { type: 'string', default: '30s' } },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`write-fast-rules: ${(err as Error).message}\n`);
    return 2;
  }
  const [out, ...rest] = parsed.positionals;
  if (!out || rest.length > 0) {
    process.stderr.write('usage: write-fast-rules.js OUT_FILE [--max-for 30s]\n');
    return 2;
  }
  try {
    writeFileSync(out, renderFastRules({ maxFor: parsed.values['max-for']! }));
  } catch (err) {
    process.stderr.write(`write-fast-rules: ${(err as Error).message}\n`);
    return 2;
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
