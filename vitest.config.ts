import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests and examples import 'hearth-runtime/...' as a user would, served from source.
    alias: [
      { find: /^hearth-runtime$/, replacement: here('./src/index.ts') },
      { find: /^hearth-runtime\/testing\/contracts$/, replacement: here('./src/testing/contracts/index.ts') },
      { find: /^hearth-runtime\/testing$/, replacement: here('./src/testing/index.ts') },
      { find: /^hearth-runtime\/(sqlite|postgres|openai|http|otel)$/, replacement: here('./adapters/$1/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    // The PostgreSQL chaos suite and the browser test run on their own: `npm run test:pg-chaos`, `npm run test:browser`.
    exclude: ['test/postgres/chaos/**', 'test/browser/**', '**/node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
