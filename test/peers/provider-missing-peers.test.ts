/**
 * A missing provider SDK, in a child process whose module hook fails its
 * import from the library as Node does for a package that is not installed:
 * the subpath still imports and its factory still builds a provider; its
 * requests fail with `dependency.missing` and what to install, and so does a
 * run on it. For hearth-runtime/openai and hearth-runtime/anthropic.
 */
import { describe, expect, it } from 'vitest'
import { runChild } from './run-child.js'

const subpaths = [
  { name: 'openai', peer: 'openai', install: 'openai@6', factory: "openaiProvider({ apiKey: 'x', baseURL: 'http://127.0.0.1:9' })", model: 'gpt-4o-mini' },
  { name: 'anthropic', peer: '@anthropic-ai/sdk', install: '@anthropic-ai/sdk@1', factory: "anthropicProvider({ apiKey: 'x', baseURL: 'http://127.0.0.1:9' })", model: 'claude-sonnet-4-5' },
] as const

const script = (subpath: (typeof subpaths)[number]) => `
  const failure = async (start) => {
    try {
      await start()
      return null
    } catch (error) {
      return { name: error.name, code: error.code, message: error.message, cause: error.cause?.code }
    }
  }
  const seen = {}
  const adapter = await import('./adapters/${subpath.name}/index.ts')
  const { Runtime } = await import('./src/index.ts')
  seen.imported = true
  const provider = adapter.${subpath.factory}
  seen.constructed = typeof provider.stream === 'function'
  const request = { model: '${subpath.model}', messages: [{ role: 'user', content: 'Hi' }], tools: [] }
  const read = async () => {
    for await (const _ of provider.stream(request, { signal: new AbortController().signal })) void _
  }
  seen.stream = await failure(read)
  seen.streamAgain = (await failure(read))?.code
  const runtime = await Runtime.open({
    providers: { model: provider },
    routes: { default: { provider: 'model', model: '${subpath.model}' } },
    agents: [{ key: 'helper', version: 1, instructions: 'Help.' }],
  })
  try {
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'Hi' })
    const done = await run.result()
    seen.run = { status: done.status, error: done.error }
  } finally {
    await runtime.close()
  }
  console.log(JSON.stringify(seen))
`

for (const subpath of subpaths) {
  describe(`hearth-runtime/${subpath.name} without ${subpath.peer}`, () => {
    it('imports and builds a provider, whose requests and runs fail with dependency.missing', async () => {
      const message = `hearth-runtime/${subpath.name} needs ${subpath.peer}: npm install ${subpath.install}`
      const { result, stderr } = await runChild(script(subpath), { hide: [subpath.peer] })
      expect(result, stderr).toEqual({
        imported: true,
        constructed: true,
        stream: { name: 'DependencyError', code: 'dependency.missing', message, cause: 'ERR_MODULE_NOT_FOUND' },
        streamAgain: 'dependency.missing',
        run: { status: 'failed', error: { code: 'dependency.missing', message } },
      })
    })
  })
}

describe('hearth-runtime/mcp without @modelcontextprotocol/sdk', () => {
  it('imports, and mcpTools() rejects with dependency.missing and what to install', async () => {
    const script = `
      const { mcpTools } = await import('./adapters/mcp/index.ts')
      let failure = null
      try {
        await mcpTools({ servers: { fs: { command: 'node' } } })
      } catch (error) {
        failure = { name: error.name, code: error.code, message: error.message }
      }
      console.log(JSON.stringify({ imported: true, failure }))
    `
    const { result, stderr } = await runChild(script, { hide: ['@modelcontextprotocol/sdk'] })
    expect(result, stderr).toEqual({
      imported: true,
      failure: { name: 'DependencyError', code: 'dependency.missing', message: 'hearth-runtime/mcp needs @modelcontextprotocol/sdk: npm install @modelcontextprotocol/sdk@1' },
    })
  })
})

describe('hearth-runtime/otel without @opentelemetry/api', () => {
  it('imports and builds its telemetry; Runtime.open with it rejects with dependency.missing and what to install', async () => {
    const script = `
      const { otelTelemetry } = await import('./adapters/otel/index.ts')
      const { Runtime } = await import('./src/index.ts')
      let failure = null
      try {
        await Runtime.open({ telemetry: otelTelemetry() })
      } catch (error) {
        failure = { name: error.name, code: error.code, message: error.message }
      }
      console.log(JSON.stringify({ imported: true, failure }))
    `
    const { result, stderr } = await runChild(script, { hide: ['@opentelemetry/api'] })
    expect(result, stderr).toEqual({
      imported: true,
      failure: { name: 'DependencyError', code: 'dependency.missing', message: 'hearth-runtime/otel needs @opentelemetry/api: npm install @opentelemetry/api@1' },
    })
  })
})
