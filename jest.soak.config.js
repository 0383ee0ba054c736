/**
 * `npm run test:soak`: the long tests kept out of `npm test`: the bounded soak (about a minute) and
 * the metric labels under 10,000 operations (about 35 s).
 * @type {import('jest').Config}
 */
import base from './jest.config.js';

export default {
  ...base,
  // Measured green with two workers; these start servers, clusters and browsers of their own.
  maxWorkers: 2,
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: ['<rootDir>/test/soak/**/*.test.ts'],
  testTimeout: 300_000,
};
