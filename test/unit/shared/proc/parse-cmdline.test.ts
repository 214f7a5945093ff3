import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCmdline } from '../../../../shared/proc/parse-cmdline.js';

test('parseCmdline: NUL-terminated argv of an Ollama runner', () => {
  const raw = Buffer.from('/usr/bin/ollama\0runner\0--ollama-engine\0--model\0/root/.ollama/models/blobs/sha256-1\0--port\x0040123\0');
  assert.deepEqual(parseCmdline(raw), [
    '/usr/bin/ollama',
    'runner',
    '--ollama-engine',
    '--model',
    '/root/.ollama/models/blobs/sha256-1',
    '--port',
    '40123',
  ]);
});

test('parseCmdline: arguments with spaces stay whole; empty arguments are kept', () => {
  assert.deepEqual(parseCmdline('python3\0-c\0print("a b")\0\0x\0'), ['python3', '-c', 'print("a b")', '', 'x']);
});

test('parseCmdline: kernel threads have an empty cmdline', () => {
  assert.deepEqual(parseCmdline(Buffer.alloc(0)), []);
});

test('parseCmdline: a process that rewrote its title without a final NUL', () => {
  assert.deepEqual(parseCmdline('postgres: checkpointer'), ['postgres: checkpointer']);
});
