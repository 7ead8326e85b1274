// @ts-check
// ESLint 9 flat config. `npm run lint` (and `npm test`, before Jest) runs `eslint .`.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import prettierConfig from 'eslint-config-prettier';

/** The TypeScript files tsconfig.json covers; linted with type information. */
const typedFiles = ['src/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'prisma.config.ts', 'jest.config.ts'];

const workflowBuiltinMessage =
  'Workflow code must be deterministic: Temporal bundles it into an isolated sandbox and replays it, so it ' +
  'imports only @temporalio/workflow, other workflow modules and types (`import type`); Node built-ins and ' +
  'other packages are not for it. Do I/O and anything non-deterministic in an activity.';
/**
 * What a workflow module may import: `@temporalio/workflow` (and `@temporalio/common`, the SDK's
 * deterministic definitions the workflow package builds on, such as search-attribute keys), other
 * workflow modules, and types from anywhere (`import type`). `outside` matches a relative path that
 * leaves src/workflows from the file's folder; `sandboxPackages` are more modules written for the
 * workflow sandbox (Temporal's own workflow interceptors).
 */
function workflowImports(outside, sandboxPackages = []) {
  const allowed = ['@temporalio/workflow', '@temporalio/common', ...sandboxPackages].join('|');
  return {
    patterns: [
      {
        regex: `^(?!(${allowed})$)(?!\\.{1,2}/)`,
        allowTypeImports: true,
        message: workflowBuiltinMessage,
      },
      {
        regex: outside,
        allowTypeImports: true,
        message:
          'Workflow code imports only other workflow modules, whose code Temporal bundles and replays: from ' +
          'elsewhere import types only (`import type`), reach activities through proxyActivities() ' +
          '(src/workflows/policies.ts), and move pure shared code into src/workflows (as vocabulary.ts, ids.ts).',
      },
    ],
  };
}

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

  // Workflow code: deterministic, bundled by Temporal, no Node, no timers, no environment.
  {
    files: ['src/workflows/**/*.ts', 'scripts/bench/floor-workflow.ts'],
    rules: {
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
  // The determinism boundary: a workflow module imports only the SDK, other workflow modules (the
  // relative paths that stay inside src/workflows), and types. How far `..` may climb depends on
  // the folder, hence one block per depth.
  {
    files: ['src/workflows/*.ts'],
    ignores: ['src/workflows/tracing-interceptors.ts', 'src/workflows/tracing-by-history.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', workflowImports('^\\.\\./')] },
  },
  // The tracing interceptors build on Temporal's OpenTelemetry interceptors for the sandbox.
  {
    files: ['src/workflows/tracing-interceptors.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        workflowImports('^\\.\\./', ['@temporalio/interceptors-opentelemetry/lib/workflow']),
      ],
    },
  },
  // Which workflows have them reads the SDK flags of the workflow's history (the SDK's own modules).
  {
    files: ['src/workflows/tracing-by-history.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        workflowImports('^\\.\\./', ['@temporalio/workflow/lib/flags', '@temporalio/workflow/lib/global-attributes']),
      ],
    },
  },
  {
    files: ['src/workflows/*/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', workflowImports('^\\.\\./\\.\\./')] },
  },
  {
    files: ['scripts/bench/floor-workflow.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', workflowImports('^\\.\\./')] },
  },

  // Plain JavaScript (this file, jest.config.js): no type information.
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },
);
