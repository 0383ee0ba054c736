/**
 * `npm run test:soak`: the bounded soak test alone (about a minute), kept out of `npm test`.
 * @type {import('jest').Config}
 */
import base from './jest.config.js';

export default {
  ...base,
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: ['<rootDir>/test/soak/**/*.test.ts'],
  testTimeout: 300_000,
};
