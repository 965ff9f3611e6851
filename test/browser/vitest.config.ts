/**
 * The config of `npm run test:browser`: the inspector page in Debian's
 * Chromium, driven by playwright-core (too heavy for `npm test`).
 */
import { defineConfig } from 'vitest/config'
import base from '../../vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/browser/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
})
