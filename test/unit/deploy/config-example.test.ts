import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadCommands } from '../../../shared/cli/main.js';
import { loadConfig } from '../../../shared/config/load-config.js';

const example = fileURLToPath(new URL('../../../../deploy/config.example.yaml', import.meta.url));

test('the commented example config is valid for every command, and documents every section', async () => {
  const commands = await loadCommands();
  const keys = commands.flatMap((c) => c.sections.map((s) => s.key));
  for (const cmd of commands) {
    const cfg = loadConfig({ file: example, env: {}, flags: new Map(), sections: cmd.sections, otherSectionKeys: keys });
    assert.ok(cfg.ollama.length > 0 && cfg.models.length > 0, cmd.name);
  }
  const { readFileSync } = await import('node:fs');
  const text = readFileSync(example, 'utf8');
  for (const section of [...new Set(['log', 'gpu', 'docker', ...keys])]) assert.match(text, new RegExp(`^${section}:`, 'm'), `section ${section} is missing from the example`);
  for (const cmd of commands) for (const s of cmd.sections) for (const key of Object.keys(s.scalars)) {
    assert.ok(text.includes(`${key}:`) || text.includes(`# ${key}`), `${s.key}.${key} is not shown in the example`);
  }
});
