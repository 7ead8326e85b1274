/**
 * Two Jest projects, one run. `unit`: test/unit, pure code only (parsers, the codec, the error
 * tables, money and configuration, guards), no global setup: `npm run test:unit` runs it in
 * seconds with no Temporal, PostgreSQL or stripe-mock. `integration`: everything else, against
 * the real parts test/setup/global-setup.ts starts (a project's global setup runs only when one of
 * its tests does). `npm test` runs both and prints one summary.
 */
const shared = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    {
      ...shared,
      displayName: 'integration',
      roots: ['<rootDir>/test'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/unit/'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFiles: ['<rootDir>/test/setup/per-file.ts'],
    },
  ],
  // Each integration file starts its own worker and API against the shared Temporal server; two
  // at a time keeps a two-core machine responsive.
  maxWorkers: 2,
  // Read from the run's configuration, not a project's: long enough for a stack to start.
  testTimeout: 120_000,
  forceExit: false,
};
