/**
 * A missing better-sqlite3, in a child process whose module hook fails its
 * import from the library as Node does for a package that is not installed:
 * hearth-runtime/sqlite still imports, and opening a store by `path` fails
 * with `dependency.missing` and what to install. A store given a connection
 * of the app's own loads nothing and opens.
 */
import { describe, expect, it } from 'vitest'
import { runChild } from '../peers/run-child.js'

const message = 'hearth-runtime/sqlite needs better-sqlite3: npm install better-sqlite3@12'

const script = `
  import { existsSync, mkdtempSync, rmSync } from 'node:fs'
  import { tmpdir } from 'node:os'
  import { join } from 'node:path'
  const failure = (promise) =>
    promise.then(
      () => null,
      (error) => ({ name: error.name, code: error.code, message: error.message, cause: error.cause?.code }),
    )
  const directory = mkdtempSync(join(tmpdir(), 'hearth-missing-peer-'))
  const seen = {}
  try {
    const { sqliteStore } = await import('./adapters/sqlite/index.ts')
    const { Runtime } = await import('./src/index.ts')
    seen.imported = true
    const path = join(directory, 'agents.db')
    const store = sqliteStore({ path })
    seen.open = await failure(store.open())
    seen.callAfterOpen = (await failure(store.getSession('thr_x')))?.code
    seen.openAgain = (await failure(store.open()))?.code
    seen.runtimeOpen = await failure(Runtime.open({ store: sqliteStore({ path }) }))
    seen.fileMade = existsSync(path)
    // The app's own better-sqlite3 (this script is not the library, so the hook lets it through).
    const { default: Database } = await import('better-sqlite3')
    const database = new Database(join(directory, 'app.db'))
    const adopted = sqliteStore({ database })
    await adopted.open()
    seen.adoptedSessions = (await adopted.listSessions({ orgId: 'org', limit: 10 })).length
    await adopted.close()
    database.close()
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
  console.log(JSON.stringify(seen))
`

describe('hearth-runtime/sqlite without better-sqlite3', () => {
  it('imports, then fails open() with dependency.missing and stays closed; an adopted connection still opens', async () => {
    const { result, stderr } = await runChild(script, { hide: ['better-sqlite3'] })
    const missing = { name: 'DependencyError', code: 'dependency.missing', message, cause: 'ERR_MODULE_NOT_FOUND' }
    expect(result, stderr).toEqual({
      imported: true,
      open: missing,
      callAfterOpen: 'storage.failed',
      openAgain: 'dependency.missing',
      runtimeOpen: missing,
      fileMade: false,
      adoptedSessions: 0,
    })
  })
})
