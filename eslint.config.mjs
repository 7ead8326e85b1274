// @ts-check
// ESLint 9 flat config. `npm run lint` (and `npm test`, before Jest) runs `eslint .`.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import prettierConfig from 'eslint-config-prettier';

/** The TypeScript files tsconfig.json covers; linted with type information. */
const typedFiles = ['src/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'prisma.config.ts', 'jest.config.ts'];

// Every Node built-in under both of its names (`fs` and `node:fs`). Newer Node versions list
// prefix-only modules (`node:test`, `node:sqlite`) with their prefix already; keep those as they are.
const nodeBuiltins = [
  ...new Set(builtinModules.flatMap((name) => (name.startsWith('node:') ? [name] : [name, `node:${name}`]))),
];

const workflowBuiltinMessage =
  'Workflow code must be deterministic: Temporal bundles it into an isolated sandbox and replays it, ' +
  'so Node built-ins are not available there. Do I/O and anything non-deterministic in an activity.';
const workflowTimerMessage =
  'Workflow code must be deterministic and replay-safe: use sleep() or condition() from @temporalio/workflow ' +
  'instead of timers of its own.';

export default defineConfig(
  {
    ignores: ['node_modules/', 'dist/', 'src/generated/**', 'coverage/', '.data/', 'test/histories/**'],
  },

  js.configs.recommended,
  tseslint.configs.recommended,
  // Formatting is Prettier's (`.prettierrc.json`); turn off the stylistic rules it owns.
  prettierConfig,

  // Every linted file.
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },

  // TypeScript: type-aware rules for promises.
  {
    files: typedFiles,
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Express handlers and event callbacks may be async functions; a promise where a value is
      // expected (conditions, spreads, returns) is still an error.
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
    },
  },

  // Workflow code: deterministic, bundled by Temporal, no Node, no activities' implementations.
  {
    files: ['src/workflows/**/*.ts', 'scripts/bench/floor-workflow.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: nodeBuiltins.map((name) => ({ name, message: workflowBuiltinMessage })) },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/activities', '**/activities/*'],
              allowTypeImports: true,
              message:
                'Workflows reach activities through proxyActivities(); import their types only (`import type`), ' +
                'never the implementations, which would pull Node and I/O into the workflow bundle.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: workflowTimerMessage },
        { name: 'setInterval', message: workflowTimerMessage },
        { name: 'setImmediate', message: workflowTimerMessage },
        {
          name: 'process',
          message:
            'Workflow code cannot read the environment or the process: pass configuration as workflow input ' +
            'or read it in an activity.',
        },
        {
          name: 'require',
          message: 'Workflow code is bundled by Temporal: use `import` (and `import type` for activities).',
        },
      ],
    },
  },

  // Plain JavaScript (this file, jest.config.js): no type information.
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },
);
