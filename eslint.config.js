// ESLint with type information (typescript-eslint). Run by the unit phase of test/run-all.sh and `npm run lint`.
//
// The rules are chosen to catch bugs, not to enforce a style (prettier owns the layout): a first pass that the
// whole tree can be made clean against without churn. Each type-checked rule below names the bug it catches.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'test/fixtures/', 'grafana/']),
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.eslintRecommended],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits or catches: its rejection becomes an unhandled rejection (the CLI logs it as a bug)
      // and its work races whatever comes next. `void p` says "deliberately not awaited".
      // node:test's test()/describe()/it() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      // An async function where a void callback is expected (event handlers, forEach, express handlers, timers):
      // its rejection is dropped. Also a promise used as a condition (`if (promise)` is always true).
      '@typescript-eslint/no-misused-promises': 'error',
      // A switch over a union that misses a member falls through silently when a new member is added.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      // `await` on something that is not a promise: usually a missing call or a wrong type, never intended.
      '@typescript-eslint/await-thenable': 'error',
      // `return promise` inside try/catch skips the catch when the promise rejects.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // `throw 'text'` or `reject(obj)`: no stack trace, and catch blocks that read `.message` get undefined.
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      // An object in a template or string concatenation prints "[object Object]" in a log line or a message.
      '@typescript-eslint/no-base-to-string': 'error',
      // `for (const i in array)` iterates string keys, not elements.
      '@typescript-eslint/no-for-in-array': 'error',
      // `delete array[i]` leaves a hole instead of removing the element.
      '@typescript-eslint/no-array-delete': 'error',
      // Dead code: an unused import or variable is usually a leftover of a refactor (or a forgotten call).
      // `_`-prefixed names are deliberate (an unused parameter a signature needs).
      'no-unused-vars': 'off',
      // A `let` assigned once after a closure that reads it (wiring that needs the object it builds) stays a let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Plain JavaScript scripts and this file: the JavaScript rules only, no type information.
    files: ['**/*.mjs', '**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
