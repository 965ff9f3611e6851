/**
 * hearth-runtime/sqlite's declarations: a better-sqlite3 `Database` fits the
 * `database` option, and no declaration of the adapter names better-sqlite3,
 * so an app needs no `@types/better-sqlite3` to compile against it.
 */
import { dirname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import type { SqliteDatabase, SqliteStoreOptions } from 'hearth-runtime/sqlite'
import ts from 'typescript'
import { describe, expect, expectTypeOf, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

// Checked when `npm run typecheck` compiles this file: it stops compiling if a connection no longer fits.
const adopt = (database: Database.Database): SqliteStoreOptions['database'] => database

/** The declarations tsc emits for every file of adapters/sqlite, by path. */
function sqliteDeclarations(): Map<string, string> {
  const config = ts.getParsedCommandLineOfConfigFile(resolve(root, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  if (config === undefined) throw new Error('Cannot read tsconfig.build.json')
  const program = ts.createProgram([resolve(root, 'adapters/sqlite/index.ts')], { ...config.options, noEmit: false, declaration: true, emitDeclarationOnly: true })
  const declarations = new Map<string, string>()
  for (const source of program.getSourceFiles()) {
    if (!resolve(source.fileName).startsWith(resolve(root, 'adapters/sqlite') + sep)) continue
    program.emit(source, (fileName, text) => declarations.set(fileName, text), undefined, true)
  }
  return declarations
}

describe('hearth-runtime/sqlite types', () => {
  it('take a better-sqlite3 Database as the `database` option', () => {
    const database = new Database(':memory:')
    try {
      expectTypeOf(database).toExtend<SqliteDatabase>()
      expectTypeOf(database).toExtend<NonNullable<SqliteStoreOptions['database']>>()
      expect(adopt(database)).toBe(database)
    } finally {
      database.close()
    }
  })

  it('never name better-sqlite3 in a declaration', () => {
    const declarations = sqliteDeclarations()
    expect([...declarations.keys()].map((path) => path.slice(path.lastIndexOf('/') + 1))).toContain('index.d.ts')
    for (const [path, text] of declarations) {
      // Comments may name the package; an import of it, or a type from it, may not.
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      expect(code, path).not.toMatch(/better-sqlite3/)
    }
  })
})
