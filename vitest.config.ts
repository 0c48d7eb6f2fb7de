import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Integration tests share one PostgreSQL and one Redis; each file isolates itself with its own
    // schema and queue prefix (tests/support), so files may run in parallel.
    pool: 'forks',
    reporters: ['default', './tests/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
