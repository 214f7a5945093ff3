/** Where test-env.sh writes the env file: $SENTINEL_TEST_ENV_FILE, else $SENTINEL_TEST_DIR/env. */
export function testEnvFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SENTINEL_TEST_ENV_FILE) return env.SENTINEL_TEST_ENV_FILE;
  const dir = (env.SENTINEL_TEST_DIR || '/var/tmp/sentinel-test').replace(/\/+$/, '');
  return `${dir}/env`;
}
