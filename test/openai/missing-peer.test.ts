/**
 * A missing `openai` package, in a child process whose module hook fails its
 * import from the library as Node does for a package that is not installed:
 * hearth-runtime/openai still imports and openaiProvider() still builds a
 * provider; its requests fail with `dependency.missing` and what to install,
 * and so does a run on it.
 */
import { describe, expect, it } from 'vitest'
import { runChild } from '../peers/run-child.js'

const message = 'hearth-runtime/openai needs openai: npm install openai@6'

const script = `
  const failure = async (start) => {
    try {
      await start()
      return null
    } catch (error) {
      return { name: error.name, code: error.code, message: error.message, cause: error.cause?.code }
    }
  }
  const seen = {}
  const { openaiProvider } = await import('./adapters/openai/index.ts')
  const { Runtime } = await import('./src/index.ts')
  seen.imported = true
  const provider = openaiProvider({ apiKey: 'x', baseURL: 'http://127.0.0.1:9' })
  seen.constructed = typeof provider.stream === 'function'
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], tools: [] }
  const read = async () => {
    for await (const _ of provider.stream(request, { signal: new AbortController().signal })) void _
  }
  seen.stream = await failure(read)
  seen.streamAgain = (await failure(read))?.code
  const runtime = await Runtime.open({
    providers: { openai: provider },
    routes: { default: { provider: 'openai', model: 'gpt-4o-mini' } },
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

describe('hearth-runtime/openai without the openai package', () => {
  it('imports and builds a provider, whose requests and runs fail with dependency.missing', async () => {
    const { result, stderr } = await runChild(script, { hide: ['openai'] })
    expect(result, stderr).toEqual({
      imported: true,
      constructed: true,
      stream: { name: 'DependencyError', code: 'dependency.missing', message, cause: 'ERR_MODULE_NOT_FOUND' },
      streamAgain: 'dependency.missing',
      run: { status: 'failed', error: { code: 'dependency.missing', message } },
    })
  })
})
