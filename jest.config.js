/**
 * Jest in native ESM mode (run with `node --experimental-vm-modules`, see `npm test`). ts-jest
 * only transpiles (`isolatedModules` in tsconfig.json); `npm test` type-checks with tsc first.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 20_000,
};
