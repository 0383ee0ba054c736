/**
 * `npm run test:redis`: the suite that needs a real redis-server (on PATH; each test file starts
 * its own on a free port). It fails with one line saying how to install Redis when it is missing.
 * @type {import('jest').Config}
 */
import base from './jest.config.js';

export default {
  ...base,
  // Measured green with two workers; these start servers, clusters and browsers of their own.
  maxWorkers: 2,
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: ['<rootDir>/test/redis/**/*.test.ts'],
  testTimeout: 60_000,
};
