/**
 * `npm run test:browser`: the example page in a real browser (Debian's chromium, driven by
 * playwright-core), against the demo's simulator and gateway. It fails with one line saying how
 * to install Chromium when /usr/bin/chromium is missing.
 * @type {import('jest').Config}
 */
import base from './jest.config.js';

export default {
  ...base,
  // Measured green with two workers; these start servers, clusters and browsers of their own.
  maxWorkers: 2,
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
  testTimeout: 60_000,
};
