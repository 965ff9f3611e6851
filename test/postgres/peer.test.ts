/**
 * `pg` as an optional peer of hearth-runtime/postgres: loaded by the first
 * open of a store and by nothing before it (the root import, importing the
 * subpath, creating a store); missing, it fails `open()` with
 * `dependency.missing` and what to install, while a store given a pool of
 * the app's own opens. The declarations never name `pg`, so an app needs no
 * `@types/pg`, and a `pg.Pool` fits the `pool` option.
 */
import { tmpdir } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import ts from 'typescript'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { PgPool, PostgresConnection } from 'hearth-runtime/postgres'
import { runChild } from '../peers/run-child.js'
import { adminUrl, postgresReachable } from './pg-server.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const reachable = await postgresReachable()

// Checked when `npm run typecheck` compiles this file: it stops compiling if a pool no longer fits.
const adopt = (pool: pg.Pool): PostgresConnection => ({ pool })

const loadedScript = `
  import { readFileSync } from 'node:fs'
  import { createRequire } from 'node:module'
  const log = () => { try { return readFileSync(process.env.HEARTH_PEER_LOG, 'utf8') } catch { return '' } }
  const loaded = () => ({
    resolved: log().split('\\n').some((line) => line.split(' ')[0] === 'pg'),
    cached: Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/pg/')),
  })
  await import('./src/index.ts')
  const afterRoot = loaded()
  const { postgresStore } = await import('./adapters/postgres/index.ts')
  const afterImport = loaded()
  const store = postgresStore({ connectionString: process.env.HEARTH_TEST_URL }, { schema: 'peer_loaded' })
  const afterCreate = loaded()
  await store.open()
  const afterOpen = loaded()
  await store.close()
  console.log(JSON.stringify({ afterRoot, afterImport, afterCreate, afterOpen }))
`

const missingScript = `
  const failure = (promise) =>
    promise.then(
      () => null,
      (error) => ({ name: error.name, code: error.code, message: error.message, cause: error.cause?.code }),
    )
  const seen = {}
  const { postgresStore } = await import('./adapters/postgres/index.ts')
  const { Runtime } = await import('./src/index.ts')
  seen.imported = true
  const store = postgresStore({ connectionString: process.env.HEARTH_TEST_URL }, { schema: 'peer_missing' })
  seen.open = await failure(store.open())
  seen.callAfterOpen = (await failure(store.getSession('thr_x')))?.code
  seen.runtimeOpen = await failure(Runtime.open({ store: postgresStore({ connectionString: process.env.HEARTH_TEST_URL }) }))
  // The app's own pg (this script is not the library, so the hook lets it through).
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: process.env.HEARTH_TEST_URL })
  const adopted = postgresStore({ pool }, { schema: 'peer_missing' })
  await adopted.open()
  seen.adoptedSessions = (await adopted.listSessions({ orgId: 'org', limit: 10 })).length
  await adopted.close()
  seen.poolStillOpen = (await pool.query('SELECT 1 AS one')).rows[0].one
  await pool.end()
  console.log(JSON.stringify(seen))
`

/** The declarations tsc emits for every file of adapters/postgres, by path. */
function postgresDeclarations(): Map<string, string> {
  const config = ts.getParsedCommandLineOfConfigFile(resolve(root, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  if (config === undefined) throw new Error('Cannot read tsconfig.build.json')
  const program = ts.createProgram([resolve(root, 'adapters/postgres/index.ts')], { ...config.options, noEmit: false, declaration: true, emitDeclarationOnly: true })
  const declarations = new Map<string, string>()
  for (const source of program.getSourceFiles()) {
    if (!resolve(source.fileName).startsWith(resolve(root, 'adapters/postgres') + sep)) continue
    program.emit(source, (fileName, text) => declarations.set(fileName, text), undefined, true)
  }
  return declarations
}

describe('pg, the optional peer of hearth-runtime/postgres', () => {
  it.skipIf(!reachable)('is loaded by the first open(), not by the root import, hearth-runtime/postgres or postgresStore()', async () => {
    const { result, stderr } = await runChild(loadedScript, { log: join(tmpdir(), `hearth-pg-resolutions-${process.pid}-${Date.now()}.log`), env: { HEARTH_TEST_URL: adminUrl } })
    const untouched = { resolved: false, cached: false }
    expect(result, stderr).toEqual({ afterRoot: untouched, afterImport: untouched, afterCreate: untouched, afterOpen: { resolved: true, cached: true } })
  })

  it.skipIf(!reachable)('missing, fails open() with dependency.missing and what to install; a pool of the app’s own still opens', async () => {
    const { result, stderr } = await runChild(missingScript, { hide: ['pg'], env: { HEARTH_TEST_URL: adminUrl } })
    const missing = { name: 'DependencyError', code: 'dependency.missing', message: 'hearth-runtime/postgres needs pg: npm install pg@8', cause: 'ERR_MODULE_NOT_FOUND' }
    expect(result, stderr).toEqual({ imported: true, open: missing, callAfterOpen: 'storage.failed', runtimeOpen: missing, adoptedSessions: 0, poolStillOpen: 1 })
  })

  it('fits a pg.Pool as the `pool` option, and no declaration names pg', () => {
    const pool = new pg.Pool({ connectionString: adminUrl })
    expectTypeOf(pool).toExtend<PgPool>()
    expect(adopt(pool)).toEqual({ pool })
    void pool.end()
    const declarations = postgresDeclarations()
    expect([...declarations.keys()].map((path) => path.slice(path.lastIndexOf('/') + 1))).toContain('index.d.ts')
    for (const [path, text] of declarations) {
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      expect(code, path).not.toMatch(/from ['"]pg['"]|import\(['"]pg['"]\)/)
    }
  })
})
