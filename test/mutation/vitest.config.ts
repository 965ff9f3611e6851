/**
 * The vitest config StrykerJS runs (`npm run test:mutation`): the main one,
 * without the build step and without the tests that only exercise code in
 * child processes or through dist/ (Stryker's mutants live in its sandbox's
 * source, where those tests cannot see them), or that only measure load.
 */
import { defineConfig } from 'vitest/config'
import base from '../../vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    globalSetup: [],
    exclude: [
      'test/crash/**',
      'test/processes/**',
      'test/http/load.test.ts',
      'test/http/example-server.test.ts',
      'test/examples.test.ts',
      'test/docs.test.ts',
      'test/import-graph.test.ts',
      'test/sqlite/root-import.test.ts',
      'test/sqlite/two-processes.test.ts',
      'test/peers/provider-boundaries.test.ts',
      'test/peers/provider-missing-peers.test.ts',
      'test/sqlite/missing-peer.test.ts',
      '**/node_modules/**',
    ],
  },
})
