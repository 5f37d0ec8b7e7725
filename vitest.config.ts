import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Installs the Temporal binaries and fetches the Compose schema when they are not cached (see the file).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Workflow bundling and Temporal servers are heavy: keep parallelism within 2 cores.
    maxWorkers: 2,
    fileParallelism: true,
    pool: 'forks',
  },
});
