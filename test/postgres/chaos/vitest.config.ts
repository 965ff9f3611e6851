/**
 * The config of `npm run test:pg-chaos`: the PostgreSQL chaos suite, one file
 * at a time (its replicas are processes that share the machine's two cores).
 * dist/ is built first, since the replicas run the example server as
 * `npm start` does.
 */
import { defineConfig } from 'vitest/config'
import base from '../../../vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/postgres/chaos/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
