import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Every module specifier reachable from `entry` through relative imports. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string): void => {
    if (files.has(file)) return
    files.add(file)
    const source = readFileSync(file, 'utf8')
    // Static imports and re-exports that load code (type-only ones are erased).
    const pattern = /^(?:import|export)\s+(?!type\b)(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1] as string
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
      else packages.add(specifier)
    }
    for (const match of source.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) packages.add(match[1] as string)
  }
  visit(entry)
  return { files, packages }
}

describe('the root import', () => {
  it('loads no adapter, no adapter dependency and no I/O module', () => {
    const { files, packages } = importGraph(resolve(root, 'src/index.ts'))
    for (const file of files) expect(file.startsWith(resolve(root, 'src'))).toBe(true)
    // node:os names this host for ownership; nothing else of Node's I/O.
    expect([...packages].sort()).toEqual(['eventemitter3', 'node:os', 'p-queue', 'zod'])
  })

  it('hearth-runtime/testing stays in the core too', () => {
    const { files, packages } = importGraph(resolve(root, 'src/testing/index.ts'))
    for (const file of files) expect(file.startsWith(resolve(root, 'src'))).toBe(true)
    // The kill harness spawns its victim, resolves its entry and finds tsx: process, path and module resolution, no adapter.
    const allowed = ['eventemitter3', 'node:os', 'p-queue', 'zod', 'node:child_process', 'node:module', 'node:path', 'node:url']
    expect([...packages].filter((name) => !allowed.includes(name))).toEqual([])
  })
})
