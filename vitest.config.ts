import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests share local services (Postgres, MariaDB, NATS…); each file uses its own schema or names.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
