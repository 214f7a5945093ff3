import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommand } from '../../../../shared/gpu/split-command.js';

const noFile = () => false;

test('an existing file is used whole, spaces and all', () => {
  assert.deepEqual(splitCommand('/opt/my tools/nvidia-smi', (p) => p === '/opt/my tools/nvidia-smi'), ['/opt/my tools/nvidia-smi']);
});

test('wrappers split like shell words, without a shell', () => {
  assert.deepEqual(splitCommand('sudo -n nvidia-smi', noFile), ['sudo', '-n', 'nvidia-smi']);
  assert.deepEqual(splitCommand('"/opt/my tools/smi" --id=0', noFile), ['/opt/my tools/smi', '--id=0']);
  assert.deepEqual(splitCommand("ssh gpu1 'nvidia-smi'", noFile), ['ssh', 'gpu1', 'nvidia-smi']);
  assert.deepEqual(splitCommand('/opt/my\\ tools/smi $HOME', noFile), ['/opt/my tools/smi', '$HOME']);
  assert.deepEqual(splitCommand('nvidia-smi', noFile), ['nvidia-smi']);
});

test('broken quoting and empty commands are refused', () => {
  assert.throws(() => splitCommand('"/opt/x', noFile), /unterminated/);
  assert.throws(() => splitCommand('   ', noFile), /empty/);
});
