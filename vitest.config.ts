import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests and examples import 'hearth/...' as a user would, served from source.
    alias: [
      { find: /^hearth$/, replacement: here('./src/index.ts') },
      { find: /^hearth\/testing$/, replacement: here('./src/testing/index.ts') },
      { find: /^hearth\/(sqlite|openai|http)$/, replacement: here('./adapters/$1/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
