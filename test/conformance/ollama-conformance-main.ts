/**
 * `npm run conformance -- --ollama URL [...]`: checks a real Ollama server against rows 1-13 of issue 9 and prints
 * PASS / FAIL (expected, seen) / SKIP (why) per row. Exit 0 when no row failed, 1 when one did, 2 on a usage error or
 * when the server does not answer /api/version.
 */
import { formatResult, formatSummary, parseConformanceArgs, runConformance, USAGE } from './ollama-conformance.js';

async function main(): Promise<number> {
  let options: ReturnType<typeof parseConformanceArgs>;
  try {
    options = parseConformanceArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  try {
    const report = await runConformance(options, (r) => {
      // Rows take seconds to minutes: each is printed as soon as it is known.
      if (!options.json) process.stdout.write(`${formatResult(r).join('\n')}\n`);
    });
    process.stdout.write(`${options.json ? JSON.stringify(report, null, 2) : formatSummary(report)}\n`);
    return report.results.some((r) => r.status === 'FAIL') ? 1 : 0;
  } catch (err) {
    process.stderr.write(`conformance: ${(err as Error).message}\n`);
    return 2;
  }
}

process.exitCode = await main();
