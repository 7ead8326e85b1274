/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  setupFiles: ['<rootDir>/test/setup/per-file.ts'],
  // Each file starts its own worker and API against the shared Temporal server; two at a time
  // keeps a two-core machine responsive.
  maxWorkers: 2,
  testTimeout: 120_000,
  forceExit: false,
};
