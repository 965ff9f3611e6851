/**
 * hearth-runtime/openai depends on the core and the `openai` package only, and the
 * `openai` package is loaded by nothing outside adapters/openai.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const importPattern = /^(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm

function sourceFiles(folder: string): string[] {
  if (!existsSync(folder)) return []
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

function specifiersOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(importPattern)].map((match) => match[1] as string)
}

describe('hearth-runtime/openai imports', () => {
  it('imports only its own files, the core (src/) and the openai package', () => {
    for (const file of sourceFiles(resolve(root, 'adapters/openai'))) {
      for (const specifier of specifiersOf(file)) {
        if (specifier.startsWith('.')) {
          const target = relative(root, resolve(dirname(file), specifier))
          expect(target.startsWith('adapters/openai/') || target.startsWith('src/'), `${relative(root, file)} imports ${specifier}`).toBe(true)
          expect(target.startsWith('src/testing/'), `${relative(root, file)} imports ${specifier}`).toBe(false)
        } else {
          expect(specifier === 'openai' || specifier.startsWith('openai/'), `${relative(root, file)} imports ${specifier}`).toBe(true)
        }
      }
    }
  })

  it('is the only library code that imports the openai package', () => {
    for (const folder of ['src', 'adapters/sqlite', 'adapters/http']) {
      for (const file of sourceFiles(resolve(root, folder)).filter((path) => !path.includes('/openai/'))) {
        expect(specifiersOf(file).filter((specifier) => specifier === 'openai' || specifier.startsWith('openai/')), relative(root, file)).toEqual([])
      }
    }
  })
})
