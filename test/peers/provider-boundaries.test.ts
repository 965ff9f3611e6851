/**
 * Each provider subpath (hearth-runtime/openai, hearth-runtime/anthropic)
 * depends on the core and its own SDK only; its SDK is loaded by nothing
 * outside its folder, and by its folder only on the first request, never at
 * import or by the factory.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runChild } from './run-child.js'

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

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** A provider subpath: its folder, its SDK, and a factory call that needs no network until the first request. */
interface ProviderSubpath {
  name: string
  peer: string
  /** A factory call and a model for the loading test; none for a subpath that is not a provider. */
  factory?: string
  model?: string
}

const subpaths: readonly ProviderSubpath[] = [
  { name: 'openai', peer: 'openai', factory: "openaiProvider({ apiKey: 'x', baseURL: 'http://127.0.0.1:9', maxRetries: 0 })", model: 'gpt-4o-mini' },
  { name: 'anthropic', peer: '@anthropic-ai/sdk', factory: "anthropicProvider({ apiKey: 'x', baseURL: 'http://127.0.0.1:9' })", model: 'claude-sonnet-4-5' },
  { name: 'mcp', peer: '@modelcontextprotocol/sdk' },
]

const isPeer = (specifier: string, peer: string): boolean => specifier === peer || specifier.startsWith(`${peer}/`)

for (const subpath of subpaths) {
  const folder = `adapters/${subpath.name}`
  describe(`hearth-runtime/${subpath.name} imports`, () => {
    it(`imports only its own files, the core (src/) and ${subpath.peer}`, () => {
      const files = sourceFiles(resolve(root, folder))
      expect(files.length).toBeGreaterThan(0)
      for (const file of files) {
        for (const specifier of specifiersOf(file)) {
          if (specifier.startsWith('.')) {
            const target = relative(root, resolve(dirname(file), specifier))
            expect(target.startsWith(`${folder}/`) || target.startsWith('src/'), `${relative(root, file)} imports ${specifier}`).toBe(true)
            expect(target.startsWith('src/testing/'), `${relative(root, file)} imports ${specifier}`).toBe(false)
          } else {
            expect(isPeer(specifier, subpath.peer), `${relative(root, file)} imports ${specifier}`).toBe(true)
          }
        }
      }
    })

    it(`is the only library code that imports ${subpath.peer}`, () => {
      for (const other of ['src', 'adapters']) {
        for (const file of sourceFiles(resolve(root, other)).filter((path) => !path.startsWith(resolve(root, folder)))) {
          expect(specifiersOf(file).filter((specifier) => isPeer(specifier, subpath.peer)), relative(root, file)).toEqual([])
        }
      }
    })
  })

  // In a child process (this one loaded the SDK long ago), with a module hook logging every bare
  // specifier resolved: the SDK must not be among them after importing the adapter and building a
  // provider, and must be after the first request, or the check proves nothing.
  const lazyScript = `
    import { readFileSync } from 'node:fs'
    const resolved = () => {
      let log = ''
      try {
        log = readFileSync(process.env.HEARTH_PEER_LOG, 'utf8')
      } catch {}
      return log.split('\\n').some((line) => /^${escape(subpath.peer)}(?:\\/| |$)/.test(line))
    }
    const adapter = await import('./${folder}/index.ts')
    const afterImport = resolved()
    const provider = adapter.${subpath.factory}
    const afterFactory = resolved()
    let code
    try {
      const request = { model: '${subpath.model}', messages: [{ role: 'user', content: 'Hi' }], tools: [] }
      for await (const _ of provider.stream(request, { signal: new AbortController().signal })) void _
    } catch (error) {
      code = error.code
    }
    console.log(JSON.stringify({ afterImport, afterFactory, afterStream: resolved(), code }))
  `

  describe(`hearth-runtime/${subpath.name} loading`, () => {
    it(`imports ${subpath.peer} only as types, statically`, () => {
      const valueImport = new RegExp(`^(?:import|export)\\s+(?!type\\b)(?:[^'"]*?\\s+from\\s+)?['"](${escape(subpath.peer)}(?:/[^'"]*)?)['"]`, 'gm')
      for (const file of sourceFiles(resolve(root, folder))) {
        const source = readFileSync(file, 'utf8')
        expect([...source.matchAll(valueImport)].map((match) => match[1]), relative(root, file)).toEqual([])
        expect(source, relative(root, file)).not.toMatch(new RegExp(`import\\(\\s*['"]${escape(subpath.peer)}`))
      }
    })

    if (subpath.factory === undefined) return
    it(`loads ${subpath.peer} on the first stream(), not at import or in the factory`, async () => {
      const directory = await mkdtemp(join(tmpdir(), `hearth-${subpath.name}-lazy-`))
      try {
        const { result, stderr } = await runChild(lazyScript, { log: join(directory, 'resolutions.log') })
        // Nothing listens on port 9: the request, sent by the loaded client, fails as unavailable.
        expect(result, stderr).toEqual({ afterImport: false, afterFactory: false, afterStream: true, code: 'provider.unavailable' })
      } finally {
        await rm(directory, { recursive: true, force: true })
      }
    })
  })
}

// hearth-runtime/mcp loads its SDK when mcpTools() is called, not at import.
const mcpScript = `
  import { readFileSync } from 'node:fs'
  const resolved = () => {
    let log = ''
    try {
      log = readFileSync(process.env.HEARTH_PEER_LOG, 'utf8')
    } catch {}
    return log.split('\\n').some((line) => /^@modelcontextprotocol\\/sdk(?:\\/| |$)/.test(line))
  }
  const { mcpTools } = await import('./adapters/mcp/index.ts')
  const afterImport = resolved()
  const toolset = await mcpTools({ servers: { none: { command: 'hearth-no-such-command' } }, connectTimeoutMs: 2000, logger: { warn() {}, error() {} } })
  const afterCall = resolved()
  await toolset.close()
  console.log(JSON.stringify({ afterImport, afterCall, tools: toolset.tools().length }))
`

describe('hearth-runtime/mcp loading', () => {
  it('loads @modelcontextprotocol/sdk when mcpTools() is called, not at import', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'hearth-mcp-lazy-'))
    try {
      const { result, stderr } = await runChild(mcpScript, { log: join(directory, 'resolutions.log') })
      expect(result, stderr).toEqual({ afterImport: false, afterCall: true, tools: 0 })
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})
