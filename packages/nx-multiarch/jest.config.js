const { esmJestOptions } = require('./esm-jest');

const esm = esmJestOptions('ts-jest');

/** Jest runs the TypeScript sources directly through ts-jest; no build step needed. */
module.exports = {
  displayName: 'nx-multiarch',
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/support/jest-env.js'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    ...esm.transform,
  },
  transformIgnorePatterns: esm.transformIgnorePatterns,
  moduleNameMapper: esm.moduleNameMapper,
  // Integration tests start real registries and cross toolchains: give them room.
  testTimeout: 120000,
};
