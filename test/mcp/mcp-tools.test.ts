/**
 * hearth-runtime/mcp against real servers made with the SDK's own McpServer:
 * over stdio in a child process and over Streamable HTTP on 127.0.0.1. The
 * tools' names, schemas and confirmation; runs that call them; an error
 * result; a server that dies mid-call and comes back; a list that changes;
 * a destructive tool that waits for confirmation across a restart of the
 * runtime and runs once.
 */
import { readFileSync, existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { hearthToolName, mcpTools, type McpToolset } from '../../adapters/mcp/index.js'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, silentLogger, type RunEvent, type Tool } from '../../src/index.js'
import { callTools, reply, scriptedModel, type TurnPicker } from '../../src/testing/index.js'
import { tempDirectory, type TempDirectory } from '../sqlite/temp-dir.js'
import { startHttpFixture } from './fixture-server.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const stdioServer = (env: Record<string, string> = {}) => ({ command: process.execPath, args: ['--import', 'tsx', 'test/mcp/fixture-server.ts'], cwd: root, env })

/** Calls `name` with `args` on the first turn, then says what the tool returned. */
const calling = (name: string, args: unknown): TurnPicker => (request) => {
  const last = request.messages.at(-1)
  return last?.role === 'tool' ? reply(`got: ${last.content}`) : callTools({ name, arguments: args })
}

const resultOf = (events: readonly RunEvent[]) => events.find((event) => event.type === 'tool.result')?.data as { output: unknown; is_error: boolean; error_code?: string }

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let index = 0; index < 200; index++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`never: ${what}`)
}

let temp: TempDirectory
beforeAll(async () => {
  temp = await tempDirectory('hearth-mcp-')
})
afterAll(() => temp.cleanup())

describe('mcpTools over stdio', () => {
  // runtime.close() closes the toolsets it was given: each test that closes a runtime connects anew.
  let toolset: McpToolset
  beforeEach(async () => {
    toolset = await mcpTools({ servers: { fx: stdioServer() }, logger: silentLogger })
  })
  afterEach(() => toolset.close())

  it('lists the server’s tools as server__tool, with their JSON Schema and confirmation from their annotations', () => {
    const byName = new Map(toolset.tools().map((tool) => [tool.name, tool]))
    expect([...byName.keys()].sort()).toEqual(['fx__add', 'fx__charge', 'fx__crash', 'fx__echo', 'fx__fail', 'fx__grow', 'fx__shrink', 'fx__wait'])
    expect(byName.get('fx__echo')?.parameters).toMatchObject({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] })
    // Read-only or non-destructive tools run at once; an unannotated one counts as destructive.
    expect(byName.get('fx__echo')?.needsConfirmation).toBe(false)
    expect(byName.get('fx__add')).toMatchObject({ needsConfirmation: false, idempotent: true })
    expect(byName.get('fx__charge')).toMatchObject({ needsConfirmation: true, idempotent: false })
    expect(toolset.servers()).toEqual([{ name: 'fx', connected: true, tools: 8 }])
  })

  it('runs a model’s call to an MCP tool, and returns structured content as JSON and an error result as a failed call', async () => {
    for (const [tool, args, expected] of [
      ['fx__echo', { text: 'hi' }, { output: 'echo: hi', is_error: false }],
      ['fx__add', { a: 2, b: 3 }, { output: { sum: 5 }, is_error: false }],
      ['fx__fail', {}, { output: 'the disk is full', is_error: true, error_code: 'tool.failed' }],
      ['fx__echo', { text: 5 }, { is_error: true, error_code: 'tool.invalid_arguments' }],
    ] as const) {
      const runtime = await Runtime.open({ logger: silentLogger, model: scriptedModel(calling(tool, args)), toolsets: { mcp: toolset }, agents: [{ key: 'a', version: 1, toolsets: ['mcp'] }] })
      const run = await runtime.createRun({ input: 'go' })
      expect((await run.result()).status).toBe('completed')
      expect(resultOf(await collectEvents(runtime, run.id))).toMatchObject(expected)
      await runtime.close()
      toolset = await mcpTools({ servers: { fx: stdioServer() }, logger: silentLogger })
    }
  })

  it('follows the server’s list when it changes', async () => {
    const runtime = await Runtime.open({ logger: silentLogger, model: scriptedModel(calling('fx__grow', {})), toolsets: { mcp: toolset }, agents: [{ key: 'a', version: 1, toolsets: ['mcp'] }] })
    await (await runtime.createRun({ input: 'grow' })).result()
    await waitFor(() => toolset.tools().some((tool) => tool.name === 'fx__extra'), 'fx__extra listed')
    await runtime.close()
  })

  it('gives a call to a tool the server no longer lists mcp.unavailable', async () => {
    const echo = toolset.tools().find((tool) => tool.name === 'fx__echo') as Tool
    const context = { signal: new AbortController().signal, runId: 'run_x', sessionId: 'thr_x', toolCallId: 'call_x', state: {} }
    await (toolset.tools().find((tool) => tool.name === 'fx__shrink') as Tool).execute({}, context)
    await waitFor(() => !toolset.tools().some((tool) => tool.name === 'fx__echo'), 'fx__echo gone')
    await expect(echo.execute({ text: 'late' }, context)).rejects.toMatchObject({ code: 'mcp.unavailable' })
  })

  it('sends the server MCP’s cancellation when the run is cancelled mid-call', async () => {
    const log = temp.file('cancelled.txt')
    await toolset.close()
    toolset = await mcpTools({ servers: { fx: stdioServer({ HEARTH_MCP_CHARGES: log }) }, logger: silentLogger })
    const runtime = await Runtime.open({ logger: silentLogger, model: scriptedModel(calling('fx__wait', {})), toolsets: { mcp: toolset }, agents: [{ key: 'a', version: 1, toolsets: ['mcp'] }] })
    const run = await runtime.createRun({ input: 'wait' })
    for await (const event of run.events()) if (event.type === 'tool.call') break
    await new Promise((resolve) => setTimeout(resolve, 200))
    await run.cancel()
    expect((await run.result()).status).toBe('cancelled')
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8') === 'cancelled\n', 'the server saw the cancellation')
    await runtime.close()
  })

  it('gives a call whose server dies mid-call mcp.unavailable, and reconnects to the restarted server', async () => {
    const runtime = await Runtime.open({ logger: silentLogger, model: scriptedModel(calling('fx__crash', {})), toolsets: { mcp: toolset }, agents: [{ key: 'a', version: 1, toolsets: ['mcp'] }] })
    const run = await runtime.createRun({ input: 'crash' })
    expect((await run.result()).status).toBe('completed')
    expect(resultOf(await collectEvents(runtime, run.id))).toMatchObject({ is_error: true, error_code: 'mcp.unavailable' })
    await waitFor(() => toolset.servers()[0]?.connected === true && toolset.tools().length > 0, 'the server back')
    expect(toolset.tools().some((tool) => tool.name === 'fx__echo')).toBe(true)
    await runtime.close()
  })
})

async function collectEvents(runtime: Runtime, runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = []
  for await (const event of runtime.runEvents(runId)) events.push(event)
  return events
}

describe('mcpTools over Streamable HTTP', () => {
  it('lists and calls a server’s tools on 127.0.0.1', async () => {
    const server = await startHttpFixture()
    try {
      const toolset = await mcpTools({ servers: { web: { url: server.url } }, logger: silentLogger })
      const runtime = await Runtime.open({ logger: silentLogger, model: scriptedModel(calling('web__echo', { text: 'over http' })), toolsets: { web: toolset }, agents: [{ key: 'a', version: 1, toolsets: ['web'] }] })
      const run = await runtime.createRun({ input: 'go' })
      expect(await run.result()).toMatchObject({ status: 'completed', content: 'got: echo: over http' })
      await runtime.close()
    } finally {
      await server.close()
    }
  })
})

describe('a destructive MCP tool across a restart of the runtime', () => {
  it('waits for confirmation, survives the restart, and runs once after approval', async () => {
    const charges = temp.file('charges.txt')
    const path = temp.file('mcp.db')
    const open = async () =>
      Runtime.open({
        logger: silentLogger,
        store: sqliteStore({ path }),
        model: scriptedModel(calling('pay__charge', { amount: 42 })),
        toolsets: { pay: await mcpTools({ servers: { pay: stdioServer({ HEARTH_MCP_CHARGES: charges }) }, logger: silentLogger }) },
        agents: [{ key: 'a', version: 1, toolsets: ['pay'] }],
      })
    const first = await open()
    const run = await first.createRun({ input: 'charge 42' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    await first.close()
    expect(existsSync(charges)).toBe(false)
    const second = await open()
    await second.submitInput(run.id, { approved: true })
    expect(await second.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'got: charged 42' })
    expect(readFileSync(charges, 'utf8')).toBe('42\n')
    await second.close()
  })
})

describe('tool names and options', () => {
  it('makes names fit ^[A-Za-z0-9_-]{1,64}$, long ones cut with a hash that keeps them apart', () => {
    expect(hearthToolName('fs', 'read_file')).toBe('fs__read_file')
    expect(hearthToolName('my.server', 'get weather!')).toBe('my_server__get_weather_')
    const long = (suffix: string) => hearthToolName('server', `${'a'.repeat(70)}${suffix}`)
    expect(long('x')).toMatch(/^[A-Za-z0-9_-]{64}$/)
    expect(long('x')).not.toBe(long('y'))
    expect(long('x')).toBe(long('x'))
  })

  it('refuses malformed servers with a TypeError naming them, and warns about one that cannot start', async () => {
    await expect(mcpTools({ servers: { 'bad name': stdioServer() } })).rejects.toThrow(/bad name/)
    await expect(mcpTools({ servers: { x: { command: '' } } })).rejects.toThrow(/servers.x/)
    await expect(mcpTools({ servers: { x: { url: 'ftp://x' } } })).rejects.toThrow(/servers.x.url/)
    const warnings: string[] = []
    const toolset = await mcpTools({ servers: { gone: { command: 'hearth-no-such-command' } }, connectTimeoutMs: 2000, logger: { warn: (message: string) => warnings.push(message), error: () => {} } })
    expect(toolset.tools()).toEqual([])
    expect(warnings).toEqual([expect.stringContaining('MCP server gone is not available')])
    await toolset.close()
  })
})
