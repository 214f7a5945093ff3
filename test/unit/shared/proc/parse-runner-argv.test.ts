import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunnerArgv } from '../../../../shared/proc/parse-runner-argv.js';

const HEX = '6e4c38e1172f42fdbff13edf9a7a017679fb82b0fde415a3e8b3c31c6ed4a4e4';
const BLOB = `/root/.ollama/models/blobs/sha256-${HEX}`;

const cases: ReadonlyArray<[why: string, argv: string[], modelBlob: string | null, slots: number | null]> = [
  [
    '0.33 llama-server as startLlamaServer launches it (-np)',
    [
      '/usr/lib/ollama/llama-server',
      '--model',
      BLOB,
      '--port',
      '41235',
      '--host',
      '127.0.0.1',
      '--no-webui',
      '--offline',
      '-c',
      '16384',
      '-np',
      '4',
      '--jinja',
    ],
    `sha256-${HEX}`,
    4,
  ],
  ['--parallel N', ['/usr/lib/ollama/llama-server', '--model', BLOB, '--parallel', '2'], `sha256-${HEX}`, 2],
  ['--parallel=N and --model=', ['llama-server', `--model=${BLOB}`, '--parallel=3'], `sha256-${HEX}`, 3],
  [
    '0.12 runner: no slot count in argv',
    ['/usr/bin/ollama', 'runner', '--ollama-engine', '--model', BLOB, '--port', '40123'],
    `sha256-${HEX}`,
    null,
  ],
  ['a custom models dir', ['ollama', 'runner', '--model', `/data/m/blobs/sha256-${HEX}`], `sha256-${HEX}`, null],
  ['old blob name with a colon', ['ollama', 'runner', '--model', `/m/blobs/sha256:${HEX}`], `sha256-${HEX}`, null],
  ['a model path that is not a blob', ['llama-server', '-m', '/models/llama.gguf', '-np', '1'], null, 1],
  ['no model at all (discovery)', ['llama-server', '--list-devices', '--offline', '--verbose'], null, null],
  ['--model as the last word', ['llama-server', '--model'], null, null],
  ['zero or junk slots', ['llama-server', '--model', BLOB, '-np', '0', '--parallel', 'x'], `sha256-${HEX}`, null],
  ['not hex', ['llama-server', '--model', '/m/blobs/sha256-zzzzzzzzzzzzzzzz'], null, null],
];

for (const [why, argv, modelBlob, slots] of cases) {
  test(`parseRunnerArgv: ${why}`, () => {
    assert.deepEqual(parseRunnerArgv(argv), { modelBlob, slots });
  });
}
