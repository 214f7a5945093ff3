import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newProgressState } from '../../../../shared/provision/progress-state.js';
import { shouldRender } from '../../../../shared/provision/should-render.js';

const at = (status: string) => ({ ...newProgressState('m:1', 'pull', 0), status });

test('first update is always drawn', () => {
  assert.equal(shouldRender(undefined, at('pulling manifest'), 0, 10_000), true);
});

test('same step: drawn only once the interval has passed', () => {
  const last = { atMs: 1_000, status: 'pulling 6e4c38e1172f' };
  assert.equal(shouldRender(last, at('pulling 6e4c38e1172f'), 10_999, 10_000), false);
  assert.equal(shouldRender(last, at('pulling 6e4c38e1172f'), 11_000, 10_000), true);
});

test('a new step is drawn at once, but moving to the next layer is not a new step', () => {
  const last = { atMs: 1_000, status: 'pulling 6e4c38e1172f' };
  assert.equal(shouldRender(last, at('verifying sha256 digest'), 1_001, 10_000), true);
  assert.equal(shouldRender(last, at('pulling fa6710a93d78'), 1_001, 10_000), false);
  const manifest = { atMs: 1_000, status: 'pulling manifest' };
  assert.equal(shouldRender(manifest, at('pulling fa6710a93d78'), 1_001, 10_000), true);
  const create = { atMs: 1_000, status: 'using existing layer sha256:3adf8ce5e6c8' };
  assert.equal(shouldRender(create, at('using existing layer sha256:af395494e25f'), 1_001, 10_000), false);
  assert.equal(shouldRender(create, at('creating new layer sha256:af395494e25f'), 1_001, 10_000), true);
});

test('the final success is left to the result line', () => {
  assert.equal(shouldRender(undefined, at('success'), 0, 0), false);
  assert.equal(shouldRender({ atMs: 0, status: 'writing manifest' }, at('success'), 99_999, 10), false);
});
