/**
 * hearth-runtime/openai depends on the core and the `openai` package only, the
 * `openai` package is loaded by nothing outside adapters/openai, and by
 * adapters/openai only on the first request, never at import.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runChild } from '../peers/run-child.js'

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

// In a child process (this one loaded openai long ago), with a module hook logging every bare
// specifier resolved: `openai` (or a subpath of it) must not be among them after importing the
// adapter and building a provider, and must be after the first request, or the check proves nothing.
const lazyScript = `
  import { readFileSync } from 'node:fs'
  const resolved = () => {
    let log = ''
    try {
      log = readFileSync(process.env.HEARTH_PEER_LOG, 'utf8')
    } catch {}
    return log.split('\\n').some((line) => /^openai(?:\\/| |$)/.test(line))
  }
  const { openaiProvider } = await import('./adapters/openai/index.ts')
  const afterImport = resolved()
  const provider = openaiProvider({ apiKey: 'x', baseURL: 'http://127.0.0.1:9', maxRetries: 0 })
  const afterFactory = resolved()
  let code
  try {
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], tools: [] }
    for await (const _ of provider.stream(request, { signal: new AbortController().signal })) void _
  } catch (error) {
    code = error.code
  }
  console.log(JSON.stringify({ afterImport, afterFactory, afterStream: resolved(), code }))
`

describe('hearth-runtime/openai loading', () => {
  it('imports the openai package only as types, statically', () => {
    const valueImport = /^(?:import|export)\s+(?!type\b)(?:[^'"]*?\s+from\s+)?['"](openai(?:\/[^'"]*)?)['"]/gm
    for (const file of sourceFiles(resolve(root, 'adapters/openai'))) {
      const source = readFileSync(file, 'utf8')
      expect([...source.matchAll(valueImport)].map((match) => match[1]), relative(root, file)).toEqual([])
      expect(source, relative(root, file)).not.toMatch(/import\(\s*['"]openai/)
    }
  })

  it('loads the openai package on the first stream(), not at import or in openaiProvider()', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'hearth-openai-lazy-'))
    try {
      const { result, stderr } = await runChild(lazyScript, { log: join(directory, 'resolutions.log') })
      // Nothing listens on port 9: the request, sent by the loaded client, fails as unavailable.
      expect(result, stderr).toEqual({ afterImport: false, afterFactory: false, afterStream: true, code: 'provider.unavailable' })
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})
