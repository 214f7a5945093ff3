/**
 * Parses the test environment's env file: `KEY=value` lines, `#` comments and blank lines ignored.
 * test-env.sh writes values that never need quoting, so no shell unquoting is done (or wanted).
 */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`env file line ${index + 1} is not KEY=value: ${JSON.stringify(raw)}`);
    vars[match[1]!] = match[2]!;
  }
  return vars;
}
