/**
 * `npm run test:load`: the SSE load test at full scale (200 clients).
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import base from '../../vitest.config.js'

export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...base.test,
    include: ['test/http/load.test.ts'],
    env: { HEARTH_LOAD_CLIENTS: '200' },
  },
})
