const { availableParallelism } = require('node:os');
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
  // Jest's default is one worker fewer than the cores, so one worker on 2 cores. The
  // integration files spend much of their time waiting on child processes (Nx
  // start-up, git clones, qemu, registries, single-threaded links), so a second
  // worker fills cores the first leaves idle. Files share no state: each uses its
  // own clones, temporary folders and loopback ports.
  maxWorkers: Math.max(2, availableParallelism() - 1),
};
