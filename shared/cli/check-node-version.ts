/** Returns an error message when this Node is too old, else null. Checked before anything else is loaded. */
export function checkNodeVersion(version: string, minimum = '20.5.0'): string | null {
  const [a = 0, b = 0, c = 0] = version.replace(/^v/, '').split('.').map(Number);
  const [x = 0, y = 0, z = 0] = minimum.split('.').map(Number);
  const older = a !== x ? a < x : b !== y ? b < y : c < z;
  return older
    ? `ollama-sentinel needs Node.js >= ${minimum}, but this is ${version}. Install Node 20 LTS or newer (e.g. from your distribution or nodejs.org) and run it again.`
    : null;
}
