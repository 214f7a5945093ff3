import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyProcessRole, type ProcessRole } from '../../../../shared/proc/classify-process-role.js';

const cases: ReadonlyArray<[why: string, argv: string[], exe: string | null, role: ProcessRole]> = [
  ['docker image server', ['/bin/ollama', 'serve'], '/usr/bin/ollama', 'ollama_server'],
  ['install.sh server', ['/usr/local/bin/ollama', 'serve'], '/usr/local/bin/ollama', 'ollama_server'],
  ['global flag before the subcommand', ['ollama', '--verbose', 'serve'], '/usr/bin/ollama', 'ollama_server'],
  [
    '0.6 runner',
    ['/usr/bin/ollama', 'runner', '--model', '/root/.ollama/models/blobs/sha256-aa', '--port', '40123'],
    '/usr/bin/ollama',
    'ollama_runner',
  ],
  [
    'new engine runner, --model=',
    ['/usr/bin/ollama', 'runner', '--ollama-engine', '--model=/m', '--port', '1'],
    '/usr/bin/ollama',
    'ollama_runner',
  ],
  [
    'discovery runner (0.12.5+)',
    ['/usr/bin/ollama', 'runner', '--port', '37001'],
    '/usr/bin/ollama',
    'ollama_discovery',
  ],
  [
    '0.3 runner binary',
    ['/tmp/ollama123/runners/cuda_v11/ollama_llama_server', '--model', '/m', '--ctx-size', '8192', '--port', '1'],
    '/tmp/ollama123/runners/cuda_v11/ollama_llama_server',
    'ollama_runner',
  ],
  [
    '0.30 llama-server from lib/ollama',
    ['/usr/lib/ollama/llama-server', '--model', '/m'],
    '/usr/lib/ollama/llama-server',
    'ollama_runner',
  ],
  [
    'llama-server under a variant dir',
    ['llama-server', '-m', '/m'],
    '/usr/local/lib/ollama/cuda_v13/llama-server',
    'ollama_runner',
  ],
  [
    '0.33 runner as startLlamaServer launches it',
    [
      '/usr/lib/ollama/llama-server',
      '--model',
      '/root/.ollama/models/blobs/sha256-6e4c38e1172f42fdbff13edf9a7a017679fb82b0fde415a3e8b3c31c6ed4a4e4',
      '--port',
      '41235',
      '--host',
      '127.0.0.1',
      '--no-webui',
      '--offline',
      '-c',
      '8192',
      '-np',
      '2',
    ],
    '/usr/lib/ollama/llama-server',
    'ollama_runner',
  ],
  [
    '0.33 discovery: brief server start without a model',
    ['/usr/lib/ollama/llama-server', '--port', '50123', '--host', '127.0.0.1', '--no-webui', '--offline', '--verbose'],
    '/usr/lib/ollama/llama-server',
    'ollama_discovery',
  ],
  [
    '0.33 discovery: --list-devices',
    ['/usr/lib/ollama/llama-server', '--list-devices', '--offline', '--verbose'],
    '/usr/lib/ollama/llama-server',
    'ollama_discovery',
  ],
  [
    '0.33 discovery: --list-devices, exe unreadable',
    ['/usr/local/lib/ollama/llama-server', '--list-devices', '--offline', '--verbose'],
    null,
    'ollama_discovery',
  ],
  [
    '0.33 native probe',
    ['/usr/bin/ollama', 'gpu-discover', '--lib-dir', '/usr/lib/ollama', '--lib-dir', '/usr/lib/ollama/cuda_v13'],
    '/usr/bin/ollama',
    'ollama_discovery',
  ],
  [
    '0.12 discovery runner as bootstrapDevices launches it',
    ['/usr/bin/ollama', 'runner', '--ollama-engine', '--port', '37001'],
    '/usr/bin/ollama',
    'ollama_discovery',
  ],
  [
    'llama-server --model= form',
    ['/usr/lib/ollama/llama-server', '--model=/m', '--port', '1'],
    '/usr/lib/ollama/llama-server',
    'ollama_runner',
  ],
  [
    "someone else's llama.cpp server without a model",
    ['/opt/llama.cpp/build/bin/llama-server', '--list-devices'],
    '/opt/llama.cpp/build/bin/llama-server',
    'other',
  ],
  [
    "someone else's llama.cpp server",
    ['/opt/llama.cpp/build/bin/llama-server', '-m', '/m'],
    '/opt/llama.cpp/build/bin/llama-server',
    'other',
  ],
  ['replaced binary still runs', ['/usr/bin/ollama', 'serve'], '/usr/bin/ollama (deleted)', 'ollama_server'],
  ['exe unreadable: argv[0] decides', ['/usr/bin/ollama', 'runner', '--model', '/m'], null, 'ollama_runner'],
  ['ollama CLI client', ['ollama', 'run', 'llama3'], '/usr/bin/ollama', 'other'],
  ['a python process', ['python3', 'train.py'], '/usr/bin/python3.12', 'other'],
  ['a name that only contains ollama', ['/usr/bin/ollama-exporter', 'serve'], '/usr/bin/ollama-exporter', 'other'],
  ['kernel thread / zombie', [], null, 'other'],
];

for (const [why, argv, exe, role] of cases) {
  test(`classifyProcessRole: ${why} -> ${role}`, () => {
    assert.equal(classifyProcessRole(argv, exe), role);
  });
}
