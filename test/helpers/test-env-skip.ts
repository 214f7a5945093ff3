import { readTestEnv } from './read-test-env.js';

/**
 * For `describe(name, { skip: testEnvSkip() }, ...)`: false when the test environment runs, else the
 * reason to skip. Under `npm test` (SENTINEL_TEST_REQUIRE_ENV=1) a missing environment is an error
 * instead, so CI can never pass by skipping every integration test.
 */
export function testEnvSkip(env: NodeJS.ProcessEnv = process.env): string | false {
  try {
    readTestEnv(env);
    return false;
  } catch (error) {
    if (env.SENTINEL_TEST_REQUIRE_ENV === '1') throw error;
    return (error as Error).message;
  }
}
