/**
 * better-sqlite3 is loaded by the first open of a store, and by nothing
 * before it: not the root import, not importing hearth-runtime/sqlite, not
 * creating a store. Two witnesses, in a child process (this one loaded
 * better-sqlite3 long ago): the ESM resolutions of `better-sqlite3`, logged
 * by a module hook, and the CommonJS module cache, which holds
 * better-sqlite3 once anything has imported it. Both must turn true at
 * `open()`, or the check proves nothing.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runChild } from '../peers/run-child.js'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

const script = `
  import { readFileSync } from 'node:fs'
  import { createRequire } from 'node:module'
  const log = () => { try { return readFileSync(process.env.HEARTH_PEER_LOG, 'utf8') } catch { return '' } }
  const loaded = () => ({
    resolved: log().split('\\n').some((line) => line.split(' ')[0] === 'better-sqlite3'),
    cached: Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('better-sqlite3')),
  })
  await import('./src/index.ts')
  const afterRoot = loaded()
  const { sqliteStore } = await import('./adapters/sqlite/index.ts')
  const afterImport = loaded()
  const store = sqliteStore({ path: ':memory:' })
  const afterCreate = loaded()
  await store.open()
  const afterOpen = loaded()
  await store.close()
  console.log(JSON.stringify({ afterRoot, afterImport, afterCreate, afterOpen }))
`

let temp: TempDirectory
beforeEach(async () => {
  temp = await tempDirectory()
})
afterEach(async () => {
  await temp.cleanup()
})

describe('better-sqlite3', () => {
  it('is loaded by the first open(), not by the root import, hearth-runtime/sqlite or sqliteStore()', async () => {
    const { result, stderr } = await runChild(script, { log: join(temp.directory, 'resolutions.log') })
    const untouched = { resolved: false, cached: false }
    expect(result, stderr).toEqual({ afterRoot: untouched, afterImport: untouched, afterCreate: untouched, afterOpen: { resolved: true, cached: true } })
  })
})
