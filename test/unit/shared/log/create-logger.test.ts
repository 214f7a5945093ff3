import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../../shared/log/create-logger.js';
import { MAIN } from '../../../helpers/start-real-exporter.js';
import { startProcess } from '../../../helpers/start-process.js';

test('createLogger: logfmt lines carry the same fields as the JSON ones', () => {
  const lines: string[] = [];
  const sink = { write: (s: string) => void lines.push(s) };
  createLogger('info', sink).child({ command: 'exporter' }).info({ target: 'main' }, 'ready now');
  createLogger('info', sink, 'logfmt').child({ command: 'exporter' }).info({ target: 'main' }, 'ready now');
  const json = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ['level', 'time', 'service', 'command', 'target', 'msg']);
  assert.match(
    lines[1]!,
    /^ts=\d{4}-\d\d-\d\dT[\d:.]+Z level=info msg="ready now" service=ollama-sentinel command=exporter target=main\n$/,
  );
});

test('the exporter started with --log.format logfmt logs logfmt on stdout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-logfmt-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    // Nothing to reach: only the start-up line matters here.
    'ollama:\n  - name: main\n    url: http://127.0.0.1:1\nexporter:\n  listen_address: 127.0.0.1:0\n' +
      '  collector_gpu: false\n  collector_gpu_processes: false\n',
  );
  const proc = startProcess(process.execPath, [MAIN, 'exporter', '--config', config, '--log.format', 'logfmt']);
  t.after(async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await proc.waitForOutput(/ msg=listening /, 20_000);
  assert.match(
    proc.stdout(),
    /^ts=\S+ level=info msg=listening service=ollama-sentinel command=exporter url=http:\/\/127\.0\.0\.1:\d+ tls=false$/m,
  );
  assert.doesNotMatch(proc.stdout(), /^\{/m, 'no JSON line on stdout');
});
