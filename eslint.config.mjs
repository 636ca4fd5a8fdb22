// @ts-check
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'dist/**', 'eslint.config.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A dropped promise is a lost error or an unfinished write.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test tracks the promises its describe/it return.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // HTTP response bodies in tests are checked field by field.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Worker-thread entries are plain CommonJS: they load the TypeScript module (through tsx from sources).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The bundle boundary: workflows run in a deterministic sandbox.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflows run in a deterministic sandbox: no Node APIs' })),
          patterns: [
            { group: ['../activities', '../activities/*'], allowTypeImports: true, message: 'import activities as types only' },
            { group: ['**/lib/stores/*', '**/lib/models/*', '**/lib/platform', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'no clients or side effects in workflows' },
          ],
        },
      ],
    },
  },
);
