/**
 * The built package loads through Node's require(esm): no module of the root,
 * hearth-runtime/sqlite or hearth-runtime/openai awaits at top level, and the
 * peers load when used. Runs against dist/ (the build), by path: the
 * package's `exports` name only the `import` condition.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const built = existsSync(resolve(root, 'dist/adapters/sqlite/index.js')) && existsSync(resolve(root, 'dist/adapters/openai/index.js'))
const requireModule = (process.features as { require_module?: boolean }).require_module === true

const script = `
  const { Runtime } = require('./dist/src/index.js')
  const { sqliteStore } = require('./dist/adapters/sqlite/index.js')
  const { openaiProvider } = require('./dist/adapters/openai/index.js')
  const provider = openaiProvider({ apiKey: 'x', baseURL: 'http://127.0.0.1:9' })
  Runtime.open({ store: sqliteStore({ path: ':memory:' }), providers: { openai: provider } }).then(async (runtime) => {
    const session = await runtime.createSession()
    await runtime.close()
    console.log(JSON.stringify({ session: session.id.startsWith('thr_') }))
  })
`

describe.skipIf(!built || !requireModule)('require() of the build', () => {
  it('loads the root, hearth-runtime/sqlite and hearth-runtime/openai, and opens a SQLite runtime', async () => {
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: root, timeout: 15_000 })
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual({ session: true })
  })
})
