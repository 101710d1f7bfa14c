import { defineConfig } from 'vitest/config';

// .ci/run asks for a JSON record of the results beside the usual output (its closing line)
const results = process.env.M365FW_TEST_RESULTS;

export default defineConfig({
  test: {
    ...(results ? { reporters: ['default', 'json'], outputFile: { json: results } } : {}),
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    setupFiles: ['test/setup/cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
