import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../../../shared/config/types.js';
import { modelsForTarget } from '../../../../shared/init/run-init.js';

const model = (name: string, targets: string[]): ModelConfig => ({
  name,
  keep_alive: '5m',
  keep_warm: false,
  min_vram_ratio: 0.9,
  options: {},
  targets,
});

test('models naming no target belong everywhere; others only where named, in config order', () => {
  const models = [model('a:1', []), model('b:1', ['gpu1']), model('c:1', ['gpu2', 'gpu1']), model('d:1', ['gpu2'])];
  assert.deepEqual(
    modelsForTarget(models, 'gpu1').map((m) => m.name),
    ['a:1', 'b:1', 'c:1'],
  );
  assert.deepEqual(
    modelsForTarget(models, 'gpu2').map((m) => m.name),
    ['a:1', 'c:1', 'd:1'],
  );
  assert.deepEqual(
    modelsForTarget(models, 'other').map((m) => m.name),
    ['a:1'],
  );
});
