import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reply } from 'hearth-runtime/testing'
import { toAnthropicReply } from '../anthropic/wire-script.js'
import { configFromEnvironment, startServer, type RunningServer } from '../../examples/support/start-server.js'
import { startFakeOpenAIServer } from '../openai/fake-openai-server.js'
import { replyWithTurn } from '../openai/wire-script.js'
import { apiClient, range, readEvents, seqsOf, startRun, waitForRun } from './support.js'

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
const run = promisify(execFile)
let directory: string

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'hearth-server-'))
})

afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

/** The banner's shell line, run as a user would paste it. */
async function runBannerLine(banner: string, env: Record<string, string> = {}): Promise<any[]> {
  const line = banner.split('\n').find((text) => text.startsWith('B=')) as string
  const { stdout } = await run('sh', ['-c', line], { timeout: 15_000, env: { ...process.env, ...env } })
  return stdout
    .split('\n\n')
    .filter((block) => block.startsWith('id: '))
    .map((block) => JSON.parse(block.split('\n')[1]!.slice('data: '.length)))
}

describe('configFromEnvironment', () => {
  it('has the documented defaults', () => {
    expect(configFromEnvironment({})).toEqual({
      dbPath: './data/hearth.db',
      databaseUrl: undefined,
      leaseMs: 10_000,
      port: 8787,
      host: '127.0.0.1',
      apiKey: undefined,
      openai: undefined,
      anthropic: undefined,
      execute: true,
      controlTimeoutMs: 10_000,
      context: 'trim',
      contextWindow: undefined,
      mcpConfig: undefined,
      memory: false,
    })
  })

  it('reads every variable', () => {
    const config = configFromEnvironment({
      HEARTH_DB: '/tmp/x.db',
      PORT: '0',
      HOST: '0.0.0.0',
      HEARTH_API_KEY: 'k',
      OPENAI_API_KEY: 'sk',
      OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
      HEARTH_EXECUTE: 'false',
      HEARTH_CONTROL_TIMEOUT_MS: '2500',
      HEARTH_CONTEXT: 'summarize',
      HEARTH_CONTEXT_WINDOW: '32768',
      HEARTH_MCP_CONFIG: '/tmp/mcp.json',
      HEARTH_DATABASE_URL: 'postgres://app:secret@db.internal:5432/hearth',
      HEARTH_LEASE_MS: '3000',
    })
    expect(config).toEqual({
      dbPath: '/tmp/x.db',
      databaseUrl: 'postgres://app:secret@db.internal:5432/hearth',
      leaseMs: 3000,
      port: 0,
      host: '0.0.0.0',
      apiKey: 'k',
      openai: { apiKey: 'sk', baseURL: 'http://127.0.0.1:1/v1', model: 'gpt-4o-mini' },
      anthropic: undefined,
      execute: false,
      controlTimeoutMs: 2500,
      context: 'summarize',
      contextWindow: 32_768,
      mcpConfig: '/tmp/mcp.json',
      memory: true,
    })
  })

  it('picks Anthropic with only its key, and by HEARTH_PROVIDER when both keys are set (else OpenAI)', () => {
    const claude = { apiKey: 'sk-ant', baseURL: 'http://127.0.0.1:2', model: 'claude-sonnet-4-5' }
    expect(configFromEnvironment({ ANTHROPIC_API_KEY: 'sk-ant', ANTHROPIC_BASE_URL: 'http://127.0.0.1:2' })).toMatchObject({ anthropic: claude, openai: undefined })
    const both = { OPENAI_API_KEY: 'sk', ANTHROPIC_API_KEY: 'sk-ant', ANTHROPIC_MODEL: 'claude-haiku-4-5' }
    expect(configFromEnvironment(both)).toMatchObject({ openai: { apiKey: 'sk' }, anthropic: undefined })
    expect(configFromEnvironment({ ...both, HEARTH_PROVIDER: 'anthropic' })).toMatchObject({ openai: undefined, anthropic: { apiKey: 'sk-ant', model: 'claude-haiku-4-5' } })
  })

  it('names a bad PORT', () => {
    expect(() => configFromEnvironment({ PORT: 'eighty' })).toThrow(/PORT.*eighty/)
    expect(() => configFromEnvironment({ PORT: '70000' })).toThrow(TypeError)
  })

  it('names a bad HEARTH_EXECUTE or HEARTH_CONTROL_TIMEOUT_MS', () => {
    expect(() => configFromEnvironment({ HEARTH_EXECUTE: 'no' })).toThrow(/HEARTH_EXECUTE.*no/)
    expect(() => configFromEnvironment({ HEARTH_CONTROL_TIMEOUT_MS: '0' })).toThrow(/HEARTH_CONTROL_TIMEOUT_MS/)
    expect(() => configFromEnvironment({ HEARTH_CONTEXT: 'forget' })).toThrow(/HEARTH_CONTEXT.*forget/)
    expect(() => configFromEnvironment({ HEARTH_PROVIDER: 'gemini' })).toThrow(/HEARTH_PROVIDER.*gemini/)
    expect(() => configFromEnvironment({ HEARTH_PROVIDER: 'anthropic', OPENAI_API_KEY: 'sk' })).toThrow(/ANTHROPIC_API_KEY is not set/)
    expect(() => configFromEnvironment({ HEARTH_CONTEXT_WINDOW: '0' })).toThrow(/HEARTH_CONTEXT_WINDOW/)
    expect(() => configFromEnvironment({ HEARTH_CONTROL_TIMEOUT_MS: 'soon' })).toThrow(TypeError)
    expect(() => configFromEnvironment({ HEARTH_LEASE_MS: '50' })).toThrow(/HEARTH_LEASE_MS/)
    expect(() => configFromEnvironment({ HEARTH_DEMO_MEMORY: 'yes' })).toThrow(/HEARTH_DEMO_MEMORY.*yes/)
    expect(configFromEnvironment({ HEARTH_DEMO_MEMORY: '1' }).memory).toBe(true)
    // The password of a URL that is not postgres:// stays out of the message.
    expect(() => configFromEnvironment({ HEARTH_DATABASE_URL: 'mysql://app:secret@db/x' })).toThrow(/HEARTH_DATABASE_URL.*mysql:\/\/app:\*\*\*@db\/x/)
  })
})

describe('the example server without auth', () => {
  let server: RunningServer

  beforeAll(async () => {
    server = await startServer({ ...configFromEnvironment({}), dbPath: join(directory, 'new', 'nested', 'hearth.db'), port: 0 })
  })

  afterAll(async () => {
    await server.close()
  })

  it('creates the database directory, binds 127.0.0.1 and says auth is off', () => {
    expect(existsSync(join(directory, 'new', 'nested', 'hearth.db'))).toBe(true)
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(server.banner).toContain(server.url)
    expect(server.banner).toMatch(/auth\s+OFF/)
    expect(server.banner).toContain('demo model')
  })

  it('serves the inspector at /inspector, named in its banner, and the catalog its composer reads', async () => {
    expect(server.banner).toContain(`${server.url}/inspector`)
    const page = await fetch(`${server.url}/inspector`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect((await fetch(`${server.url}/inspector/app.js`)).status).toBe(200)
    const agents = (await (await fetch(`${server.url}/v1/agents`)).json()) as { id: string }[]
    expect(agents.map((agent) => agent.id)).toEqual(['assistant@1', 'critic@1', 'panel@1', 'report@1', 'researcher@1'])
  })

  it("the banner's line, pasted into a shell, streams a run's events", async () => {
    const events = await runBannerLine(server.banner)
    expect(seqsOf(events)).toEqual(range(1, events.length))
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['run.started', 'tool.call', 'tool.result', 'message.delta', 'run.completed']))
    expect(events.at(-1).data.content).toBe('add returned 5')
  })

  it('plays the demo commands', async () => {
    const api = apiClient(server.url)
    const content = async (input: string): Promise<any> => {
      const { runId } = await startRun(api, input)
      // `/fail` fails every attempt: the run fails once the route's default retries (about 2 s of backoff) are spent.
      return waitForRun(api, runId, (details) => details.status === 'completed' || details.status === 'failed', 15_000)
    }
    expect((await content('hello  big world')).content).toBe('You said: hello  big world')
    expect((await content('/tool add {"a": 1.5, "b": -4}')).content).toBe('add returned -2.5')
    expect((await content('/tool subtract {"a": 1}')).content).toBe('subtract returned "Unknown tool \\"subtract\\""')
    expect((await content('/tool add {"a": ')).content).toMatch(/^add returned "The arguments of add are not valid JSON"$/)
    expect((await content('/tool add {"a": "x", "b": 1}')).content).toMatch(/^add returned "Invalid arguments for add/)
    expect(await content('/fail')).toMatchObject({ status: 'failed', error: { code: 'provider.unavailable' } })
    expect((await content('/slow 3 0')).content).toBe('w0 w1 w2 ')
    for (const bad of ['/slow', '/slow 10001 1', '/slow 1 10001', '/slow 0 5', '/slow x y']) expect((await content(bad)).content).toMatch(/^Usage: \/slow N MS/)
    for (const bad of ['/flaky', '/flaky 11', '/flaky x']) expect((await content(bad)).content).toMatch(/^Usage: \/flaky N/)
  })

  it('survives /flaky 2: two failed attempts, each a model.retry, then the answer', async () => {
    const api = apiClient(server.url)
    const { runId } = await startRun(api, '/flaky 2')
    const done = await waitForRun(api, runId, (details) => details.status === 'completed' || details.status === 'failed', 15_000)
    expect(done).toMatchObject({ status: 'completed', content: 'You said: /flaky 2' })
    const events = await readEvents(server.url, runId)
    expect(events.filter((event) => event.type === 'model.retry').map((event) => [event.data.attempt, event.data.error.code])).toEqual([
      [1, 'provider.unavailable'],
      [2, 'provider.unavailable'],
    ])
  })

  it('streams /slow deltas MS apart', async () => {
    const api = apiClient(server.url)
    const { runId } = await startRun(api, '/slow 4 60')
    const events = await readEvents(server.url, runId)
    const deltas = events.filter((event) => event.type === 'message.delta')
    expect(deltas.map((event) => event.data.content)).toEqual(['w0 ', 'w1 ', 'w2 ', 'w3 '])
    const times = deltas.map((event) => Date.parse(event.created_at))
    for (let index = 1; index < times.length; index++) expect(times[index]! - times[index - 1]!).toBeGreaterThanOrEqual(45)
  })

  it('runs researcher@1 as a child run (/tool researcher) and the team panel@1, on its SQLite store', async () => {
    const api = apiClient(server.url)
    const { runId } = await startRun(api, '/tool researcher {"input":"/slow 3 0"}')
    const done = await waitForRun(api, runId, (details) => details.status === 'completed' || details.status === 'failed')
    expect(done.content).toBe('researcher returned "w0 w1 w2 "')
    const tree = (await api('GET', `/v1/runs/${runId}/tree`)).body
    expect(tree.children.map((child: any) => [child.run.persona_id, child.run.parent_run_id, child.run.content])).toEqual([['researcher@1', runId, 'w0 w1 w2 ']])
    expect(server.banner).toContain('panel@1')
    const thread = await api('POST', '/v1/threads', { persona_id: 'panel' })
    const team = await startRun(api, 'ship it?', thread.body.id)
    const combined = await waitForRun(api, team.runId, (details) => details.status === 'completed' || details.status === 'failed')
    expect(combined.content).toBe('researcher returned "You said: ship it?"\ncritic returned "You said: ship it?"')
    const view = await api('GET', `/sessions/${thread.body.id}/runs?type=team&db_id=${server.runtime.store.id}`)
    expect(view.body.map((entry: any) => entry.parent_run_id)).toEqual([null, team.runId, team.runId])
  })

  it('runs the workflow report@1: research as a child run, then a summarising step; the Agno view lists it for type=workflow', async () => {
    const api = apiClient(server.url)
    const thread = await api('POST', '/v1/threads', { persona_id: 'report' })
    expect(thread.body.type).toBe('workflow')
    const { runId } = await startRun(api, 'tides', thread.body.id)
    const done = await waitForRun(api, runId, (details) => details.status === 'completed' || details.status === 'failed')
    expect(done.content).toBe('Report on tides: You said: tides')
    const events = await readEvents(server.url, runId)
    expect(events.filter((event) => event.type === 'workflow.step_completed').map((event) => event.data.name)).toEqual(['agent researcher@1', 'summarise'])
    const view = await api('GET', `/sessions/${thread.body.id}/runs?type=workflow&db_id=${server.runtime.store.id}`)
    expect(view.body.map((entry: any) => [entry.run_id === runId, entry.parent_run_id])).toEqual([
      [true, null],
      [false, runId],
    ])
    expect(server.banner).toContain('report@1')
  })

  it('serves the Agno view of its SQLite store', async () => {
    const api = apiClient(server.url)
    const { threadId, runId } = await startRun(api, 'hi')
    await waitForRun(api, runId, (details) => details.status === 'completed')
    const view = await api('GET', `/sessions/${threadId}/runs?type=agent&db_id=${server.runtime.store.id}`)
    expect(view.status).toBe(200)
    expect(view.body[0]).toMatchObject({ run_id: runId, content: 'You said: hi', run_response_format: 'text' })
    expect((await api('GET', `/sessions/${threadId}/runs?db_id=other`)).status).toBe(404)
  })
})

describe('the example server with HEARTH_DEMO_MEMORY=1', () => {
  it('keeps a thread user’s messages as memories, recalls them in that user’s other threads only, and serves them at /memories', async () => {
    const server = await startServer({ ...configFromEnvironment({ HEARTH_DEMO_MEMORY: '1' }), dbPath: join(directory, 'memory.db'), port: 0 })
    try {
      const api = apiClient(server.url)
      const ann = (await api('POST', '/v1/threads', { user_id: 'ann' })).body.id as string
      const { runId } = await startRun(api, 'I live in Lisbon', ann)
      await waitForRun(api, runId, (details) => details.status === 'completed')
      const types = (await readEvents(server.url, runId)).map((event) => event.type)
      expect(types.indexOf('memory.update_completed')).toBeGreaterThan(types.indexOf('memory.update_started'))
      expect(types.indexOf('memory.update_completed')).toBeLessThan(types.indexOf('run.completed'))
      const agno = (await api('GET', `/sessions/${ann}/runs`)).body[0].events.map((event: { event: string }) => event.event)
      expect(agno).toEqual(expect.arrayContaining(['MemoryUpdateStarted', 'MemoryUpdateCompleted']))
      const listed = await api('GET', '/memories?user_id=ann')
      expect(listed.body.data.map((memory: { memory: string }) => memory.memory)).toEqual(['I live in Lisbon'])

      const again = await startRun(api, '/recall', (await api('POST', '/v1/threads', { user_id: 'ann' })).body.id)
      expect((await waitForRun(api, again.runId, (details) => details.status === 'completed')).content).toBe('I remember:\n- I live in Lisbon')
      const other = await startRun(api, '/recall', (await api('POST', '/v1/threads', { user_id: 'bob' })).body.id)
      expect((await waitForRun(api, other.runId, (details) => details.status === 'completed')).content).toBe('I remember nothing about you yet.')
    } finally {
      await server.close()
    }
  })
})

describe('the example server with HEARTH_CONTEXT and HEARTH_CONTEXT_WINDOW', () => {
  it('trims a long session to a small window, and summarizes it with HEARTH_CONTEXT=summarize', async () => {
    for (const strategy of ['trim', 'summarize'] as const) {
      const server = await startServer({
        ...configFromEnvironment({ HEARTH_CONTEXT: strategy, HEARTH_CONTEXT_WINDOW: '1200' }),
        dbPath: join(directory, `context-${strategy}.db`),
        port: 0,
      })
      try {
        expect(server.banner).toContain(strategy === 'trim' ? 'trimmed to fit' : 'summarized to fit')
        const api = apiClient(server.url)
        const { body: thread } = await api('POST', '/v1/threads', {})
        let last = ''
        for (let index = 0; index < 6; index++) {
          const { runId } = await startRun(api, `note ${index} ${'pad '.repeat(120)}`, thread.id)
          await waitForRun(api, runId, (details) => details.status === 'completed')
          last = runId
        }
        const types = (await readEvents(server.url, last)).map((event) => event.type)
        expect(types).toContain(strategy === 'trim' ? 'context.trimmed' : 'context.summarized')
      } finally {
        await server.close()
      }
    }
  })
})

describe('the example server with HEARTH_API_KEY', () => {
  let server: RunningServer
  const key = 'test-key-123'

  beforeAll(async () => {
    server = await startServer({ ...configFromEnvironment({ HEARTH_API_KEY: key }), dbPath: join(directory, 'auth.db'), port: 0 })
  })

  afterAll(async () => {
    await server.close()
  })

  it('requires the key, maps it to org default, and its banner line works with the key exported', async () => {
    expect(server.banner).not.toContain(key)
    expect(server.banner).toContain('$HEARTH_API_KEY')
    expect((await apiClient(server.url)('GET', '/v1/threads')).status).toBe(401)
    expect((await apiClient(server.url, 'wrong')('GET', '/v1/threads')).status).toBe(401)
    const { body } = await apiClient(server.url, key)('POST', '/v1/threads', {})
    expect(body.org_id).toBe('default')
    const events = await runBannerLine(server.banner, { HEARTH_API_KEY: key })
    expect(events.at(-1)).toMatchObject({ type: 'run.completed', data: { content: 'add returned 5' } })
  })
})

describe('the example server with OPENAI_API_KEY', () => {
  it('survives a flaky OpenAI-compatible server with its defaults: a cut stream is retried, and the content is the retry’s', async () => {
    const openai = await startFakeOpenAIServer()
    const head = { id: 'chatcmpl-cut', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini' }
    openai.enqueue({ stream: [{ data: { ...head, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, logprobs: null, finish_reason: null }] } }, { cut: true }] })
    openai.setDefault(replyWithTurn([...reply('Hello from the wire.'), { usage: { inputTokens: 12, outputTokens: 5 } }]))
    const server = await startServer({ ...configFromEnvironment({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL }), dbPath: join(directory, 'flaky.db'), port: 0 })
    try {
      const api = apiClient(server.url)
      const { runId } = await startRun(api, 'hi')
      const run = await waitForRun(api, runId, (details) => details.status === 'completed' || details.status === 'failed', 15_000)
      expect(run).toMatchObject({ status: 'completed', content: 'Hello from the wire.' })
      const events = await readEvents(server.url, runId)
      expect(events.filter((event) => event.type === 'model.retry').map((event) => event.data.error.code)).toEqual(['provider.unavailable'])
      expect(openai.requests).toHaveLength(2)
    } finally {
      await server.close()
      await openai.close()
    }
  })

  it('uses OpenAI at OPENAI_BASE_URL with that key', async () => {
    const openai = await startFakeOpenAIServer()
    openai.setDefault(replyWithTurn([...reply('Hello from the wire.'), { usage: { inputTokens: 12, outputTokens: 5 } }]))
    const server = await startServer({
      ...configFromEnvironment({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL }),
      dbPath: join(directory, 'openai.db'),
      port: 0,
    })
    try {
      expect(server.banner).toContain(`OpenAI gpt-4o-mini at ${openai.baseURL}`)
      expect(server.banner).not.toContain('/slow')
      const api = apiClient(server.url)
      const { runId } = await startRun(api, 'hi')
      const run = await waitForRun(api, runId, (details) => details.status === 'completed' || details.status === 'failed')
      expect(run).toMatchObject({ status: 'completed', content: 'Hello from the wire.', model: 'gpt-4o-mini', total_input_tokens: 12, total_output_tokens: 5 })
      expect(openai.requests[0]?.headers.authorization).toBe('Bearer sk-test')
    } finally {
      await server.close()
      await openai.close()
    }
  })
})

describe('the example server with HEARTH_MCP_CONFIG', () => {
  it('gives the agent the configured MCP servers’ tools, which /tool calls, and names a bad file', async () => {
    const file = join(directory, 'mcp.json')
    const fixture = { command: process.execPath, args: ['--import', 'tsx', 'test/mcp/fixture-server.ts'], cwd: root }
    await writeFile(file, JSON.stringify({ mcpServers: { fx: fixture } }))
    const server = await startServer({ ...configFromEnvironment({ HEARTH_MCP_CONFIG: file }), dbPath: join(directory, 'mcp.db'), port: 0 })
    try {
      expect(server.banner).toContain('mcp    fx (8 tools)')
      const api = apiClient(server.url)
      const { runId } = await startRun(api, '/tool fx__echo {"text": "from the example"}')
      const run = await waitForRun(api, runId, (details) => details.status === 'completed' || details.status === 'failed')
      expect(run.status).toBe('completed')
      expect(run.content).toContain('echo: from the example')
    } finally {
      await server.close()
    }
    await writeFile(file, '{ "mcpServers": 5 }')
    await expect(startServer({ ...configFromEnvironment({ HEARTH_MCP_CONFIG: file }), dbPath: join(directory, 'mcp-bad.db'), port: 0 })).rejects.toThrow(/HEARTH_MCP_CONFIG/)
    await writeFile(file, 'not json')
    await expect(startServer({ ...configFromEnvironment({ HEARTH_MCP_CONFIG: file }), dbPath: join(directory, 'mcp-bad.db'), port: 0 })).rejects.toThrow(/HEARTH_MCP_CONFIG .* cannot be read as JSON/)
  })
})

describe('the example server with ANTHROPIC_API_KEY', () => {
  it('uses Claude at ANTHROPIC_BASE_URL with that key, and names it in the banner', async () => {
    const anthropic = await startFakeOpenAIServer()
    anthropic.setDefault(() => toAnthropicReply([...reply('Hello from Claude.'), { usage: { inputTokens: 30, outputTokens: 4, cachedInputTokens: 10 } }]))
    const base = anthropic.baseURL.replace(/\/v1$/, '')
    const server = await startServer({ ...configFromEnvironment({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: base }), dbPath: join(directory, 'anthropic.db'), port: 0 })
    try {
      expect(server.banner).toContain(`Anthropic claude-sonnet-4-5 at ${base}`)
      const api = apiClient(server.url)
      const { runId } = await startRun(api, 'hi')
      const run = await waitForRun(api, runId, (details) => details.status === 'completed' || details.status === 'failed')
      expect(run).toMatchObject({ status: 'completed', content: 'Hello from Claude.', model: 'claude-sonnet-4-5', total_input_tokens: 30 })
      expect((await server.runtime.getRun(runId)).modelProvider).toBe('Anthropic')
      expect(anthropic.requests[0]?.path).toBe('/v1/messages')
    } finally {
      await server.close()
      await anthropic.close()
    }
  })
})

// `npm start` runs the server through the package's own exports, which point at dist/ (test/global-setup.ts builds it).
describe('npm start', () => {
  it('serves, prints the banner and closes on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/server.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', HEARTH_DB: join(directory, 'start', 'hearth.db'), HEARTH_API_KEY: '', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
    try {
      const deadline = Date.now() + 15_000
      while (!output.includes('B=http://') || !output.includes('/events"')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`The server did not start:\n${output}`)
        await new Promise((resolveWait) => setTimeout(resolveWait, 50))
      }
      const events = await runBannerLine(output)
      expect(events.at(-1)).toMatchObject({ type: 'run.completed', data: { content: 'add returned 5' } })
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
    expect(output).toContain('SIGTERM')
  })
})

describe('two example servers on one HEARTH_DB', () => {
  it('answer and cancel, through the observer, runs the other server (a separate process) executes', async () => {
    const db = join(directory, 'shared', 'hearth.db')
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/server.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', HEARTH_DB: db, HEARTH_API_KEY: '', OPENAI_API_KEY: '', HEARTH_EXECUTE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
    let observer: RunningServer | undefined
    try {
      const deadline = Date.now() + 15_000
      while (!output.includes('hearth is serving ')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`The server did not start:\n${output}`)
        await new Promise((resolveWait) => setTimeout(resolveWait, 50))
      }
      expect(output).toMatch(/role\s+executes runs/)
      const executorUrl = /hearth is serving (\S+)/.exec(output)?.[1] as string
      observer = await startServer({ ...configFromEnvironment({ HEARTH_EXECUTE: 'false' }), dbPath: db, port: 0 })
      expect(observer.banner).toMatch(/role\s+observer/)
      const executor = apiClient(executorUrl)
      const viaObserver = apiClient(observer.url)

      const email = JSON.stringify({ to: 'a@example.com', subject: 'Hi', body: 'Hello' })
      const { runId } = await startRun(executor, `/tool send_email ${email}`)
      await waitForRun(viaObserver, runId, (found) => found.status === 'waiting_for_input')
      expect(await viaObserver('POST', `/v1/runs/${runId}/input`, { content: 'yes' })).toMatchObject({ status: 200, body: { ok: true } })
      const done = await waitForRun(executor, runId, (found) => found.status === 'completed')
      expect(done.content).toContain('send_email returned')

      const slow = await startRun(executor, '/slow 200 50')
      await waitForRun(viaObserver, slow.runId, (found) => found.status === 'running')
      expect(await viaObserver('POST', `/v1/runs/${slow.runId}:cancel`)).toMatchObject({ status: 200, body: { ok: true } })
      expect((await executor('GET', `/v1/runs/${slow.runId}`)).body.status).toBe('cancelled')
    } finally {
      await observer?.close()
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  })
})
