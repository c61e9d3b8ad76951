/**
 * The plugin as a user gets it: published to a local verdaccio, installed into
 * a fresh workspace, run through the Nx CLI. One long test file, run in band.
 */
module.exports = {
  displayName: 'nx-multiarch-e2e',
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  // Installs are bounded at 10 minutes inside the test; builds and checks get the rest.
  testTimeout: 20 * 60 * 1000,
};
