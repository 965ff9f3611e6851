/**
 * The vitest config StrykerJS runs (`npm run test:mutation`): the tests that
 * exercise the mutated files (stryker.config.json's `mutate`: the run log,
 * the state fold, the scheduler, the loop, recovery, the SQLite commit path)
 * in this process. Left out: tests that only reach code in child processes
 * or through dist/ (Stryker's mutants live in its sandbox's source, where
 * they cannot see them), and the adapters' and HTTP suites, which run whole
 * runs through the same core at many times the cost per mutant (each run of
 * a mutant re-runs every test that covers it) while the core's own suites
 * already reach its lines.
 */
import { defineConfig } from 'vitest/config'
import base from '../../vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    globalSetup: [],
    include: ['test/runtime/**/*.test.ts', 'test/contracts/memory-store.test.ts', 'test/contracts/sqlite-store.test.ts', 'test/contracts/scripted-model.test.ts', 'test/sqlite/**/*.test.ts'],
    exclude: [
      'test/sqlite/root-import.test.ts',
      'test/sqlite/two-processes.test.ts',
      'test/sqlite/missing-peer.test.ts',
      'test/sqlite/public-types.test.ts',
      '**/node_modules/**',
    ],
  },
})
