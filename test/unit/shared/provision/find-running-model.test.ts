import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningModel } from '../../../../shared/ollama/parse-ps.js';
import { findRunningModel } from '../../../../shared/provision/find-running-model.js';

const running = (name: string, model = name): RunningModel => ({ name, model, size: 1, size_vram: 1, digest: '', stopping: false });

test('matches the normalised name, whatever spelling /api/ps uses', () => {
  const list = [running('qwen2.5:0.5b'), running('registry.ollama.ai/library/llama3:latest', 'llama3'), running('Gpt-OSS:20B')];
  assert.equal(findRunningModel(list, 'llama3:latest'), list[1]);
  assert.equal(findRunningModel(list, 'gpt-oss:20b'), list[2]);
  assert.equal(findRunningModel(list, 'qwen2.5:0.5b'), list[0]);
});

test('a different tag is a different model', () => {
  assert.equal(findRunningModel([running('llama3:8b')], 'llama3:latest'), undefined);
  assert.equal(findRunningModel([], 'llama3:latest'), undefined);
});
