import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { BcryptUsers } from '../../../../shared/http/bcrypt-users.js';

/** The real bcrypt compare, counted: each call is one bcrypt computation. */
function counted() {
  const calls: { password: string; hash: string }[] = [];
  const compare = (password: string, hash: string) => {
    calls.push({ password, hash });
    return bcrypt.compare(password, hash);
  };
  return { calls, compare };
}

describe('BcryptUsers', () => {
  const alice = bcrypt.hashSync('alice-pw', 4);
  const bob = bcrypt.hashSync('bob-pw', 4);
  // htpasswd writes $2y$: the same algorithm, and accepted.
  const carol = bcrypt.hashSync('carol-pw', 4).replace(/^\$2b\$/, '$2y$');

  it('accepts the right password of each user and refuses a wrong one', async () => {
    const users = new BcryptUsers({ alice, bob, carol });
    assert.equal(await users.check('alice', 'alice-pw'), true);
    assert.equal(await users.check('bob', 'bob-pw'), true);
    assert.equal(await users.check('carol', 'carol-pw'), true);
    assert.equal(await users.check('alice', 'bob-pw'), false);
    assert.equal(await users.check('bob', ''), false);
  });

  it('a success is remembered: the second request with the same credentials runs no bcrypt', async () => {
    const c = counted();
    const users = new BcryptUsers({ alice, bob }, c.compare);
    assert.equal(await users.check('alice', 'alice-pw'), true);
    assert.equal(c.calls.length, 1);
    for (let i = 0; i < 5; i++) assert.equal(await users.check('alice', 'alice-pw'), true);
    assert.equal(c.calls.length, 1, 'served from the cache');
    assert.equal(await users.check('bob', 'bob-pw'), true);
    assert.equal(c.calls.length, 2, 'another user is checked once');
  });

  it('a failure is not remembered, and a cached success does not open another password', async () => {
    const c = counted();
    const users = new BcryptUsers({ alice }, c.compare);
    assert.equal(await users.check('alice', 'guess'), false);
    assert.equal(await users.check('alice', 'guess'), false);
    assert.equal(c.calls.length, 2, 'each wrong guess pays for bcrypt');
    assert.equal(await users.check('alice', 'alice-pw'), true);
    assert.equal(await users.check('alice', 'alice-pw2'), false);
    assert.equal(c.calls.length, 4);
  });

  it('an unknown user still costs a bcrypt compare against a configured hash, and is refused', async () => {
    const c = counted();
    const users = new BcryptUsers({ alice }, c.compare);
    // Even alice's own password under another name: the name is wrong, so it is refused, never cached.
    assert.equal(await users.check('mallory', 'alice-pw'), false);
    assert.equal(await users.check('mallory', 'alice-pw'), false);
    assert.deepEqual(
      c.calls.map((x) => x.hash),
      [alice, alice],
    );
  });

  it('compares one at a time', async () => {
    let running = 0;
    let most = 0;
    const users = new BcryptUsers({ alice }, async (password, hash) => {
      most = Math.max(most, ++running);
      const ok = await bcrypt.compare(password, hash);
      running--;
      return ok;
    });
    const results = await Promise.all(['a', 'b', 'c', 'alice-pw'].map((p) => users.check('alice', p)));
    assert.deepEqual(results, [false, false, false, true]);
    assert.equal(most, 1);
  });

  it('without users it is disabled', () => {
    assert.equal(new BcryptUsers({}).enabled, false);
    assert.equal(new BcryptUsers({ alice }).enabled, true);
  });
});
