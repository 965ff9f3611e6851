/**
 * The vitest config StrykerJS runs (`npm run test:mutation`): the tests that
 * exercise the mutated files (stryker.config.json's `mutate`: the run log,
 * the state fold, the scheduler, the loop, recovery, the SQLite commit path)
 * in this process. Left out: tests that only reach code in child processes
 * or through dist/ (Stryker's mutants live in its sandbox's source, where
 * they cannot see them), and the adapters' and HTTP suites, which run whole
 * runs through the same core at many times the cost per mutant (each run of
 * a mutant re-runs every test that covers it) while the core's own suites
 * already reach its lines; except the loop's retry, timeout, fallback and
 * limit suites, which test the core over a local wire server and are its
 * only tests of stream timeouts and backoff (without them, 35 of 137
 * mutants of stretch-watch.ts and backoff.ts were detected).
 */
import { defineConfig } from 'vitest/config'
import base from '../../vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    globalSetup: [],
    // One module graph for all test files: a mutant's run loads src once instead of once per file (23 s against 46 s for the whole set, a third of the CPU). Safe because Stryker switches mutants at run time, not by module.
    isolate: false,
    include: [
      'test/runtime/**/*.test.ts',
      'test/contracts/memory-store.test.ts',
      'test/contracts/sqlite-store.test.ts',
      'test/contracts/scripted-model.test.ts',
      'test/sqlite/**/*.test.ts',
      // The loop's retries, stream timeouts, fallbacks and limits are tested over the wire (a local server, in process).
      'test/openai/loop-retries.test.ts',
      'test/openai/fallbacks.test.ts',
      'test/openai/loop-limits.test.ts',
    ],
    exclude: [
      'test/sqlite/root-import.test.ts',
      'test/sqlite/two-processes.test.ts',
      'test/sqlite/missing-peer.test.ts',
      'test/sqlite/public-types.test.ts',
      // Counts threads through vi.mock, which needs a module graph of its own; the checkpointer is not in the mutated set.
      'test/sqlite/checkpoint-thread.test.ts',
      '**/node_modules/**',
    ],
  },
})
