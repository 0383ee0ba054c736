// Tests run in a zone that is not UTC (and has daylight saving), so that code reading a date in
// local time fails here, not only on a laptop elsewhere. Set before Jest starts its workers,
// which inherit it.
process.env.TZ = 'America/New_York';

/**
 * Jest in native ESM mode (run with `node --experimental-vm-modules`, see `npm test`). ts-jest
 * only transpiles (`isolatedModules` in tsconfig.json); `npm test` type-checks with tsc first.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The soak test, the Redis suite and the browser suite have their own commands (npm run
  // test:soak, test:redis, test:browser).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/soak/', '<rootDir>/test/redis/', '<rootDir>/test/browser/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 20_000,
  // Jest's default is one worker per core but one: a single worker on CI's two cores. The suites
  // mostly wait on sockets, timers and child processes: on the 2-vCPU machine, nothing else
  // running, one worker took about 160 s, two 101 s and three 85 s for the same 884 tests.
  maxWorkers: 3,
};
