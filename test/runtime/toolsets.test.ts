/**
 * Toolsets: tools registered with the runtime by name, whose list may change,
 * referenced by agents; allow and deny lists; a name an agent's own tool
 * already has; unknown names refused; `ready` awaited by open and `close`
 * called by close; an approved call after a restart finds its tool.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, silentLogger, tool, type Tool, type Toolset } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { tempDirectory } from '../sqlite/temp-dir.js'

const echo = (name: string, calls: string[] = []) => tool({ name, input: z.object({}), execute: () => (calls.push(name), `${name} ran`) })

/** A toolset whose list a test sets. */
function dynamicToolset(initial: readonly Tool[]): Toolset & { set(tools: readonly Tool[]): void; closed: number } {
  let tools = initial
  const set = {
    closed: 0,
    tools: () => tools,
    set(next: readonly Tool[]) {
      tools = next
    },
    async close() {
      set.closed++
    },
  }
  return set
}

const toolNames = (model: ReturnType<typeof scriptedModel>) => (model.requests.at(-1)?.tools ?? []).map((spec) => spec.name)

describe('toolsets', () => {
  it('gives an agent its toolsets’ current tools besides its own, filtered by allow and deny, and closes them with the runtime', async () => {
    const model = scriptedModel(() => reply('ok'))
    const fs = dynamicToolset([echo('read'), echo('write'), echo('delete')])
    const warnings: string[] = []
    const runtime = await Runtime.open({
      logger: { warn: (message: string) => warnings.push(message), error: () => {} },
      model,
      toolsets: { fs },
      agents: [
        { key: 'reader', version: 1, tools: [echo('read')], toolsets: [{ name: 'fs', deny: ['delete'] }] },
        { key: 'writer', version: 1, toolsets: [{ name: 'fs', allow: ['write'] }] },
      ],
    })
    await (await runtime.createRun({ input: 'a', personaId: 'reader' })).result()
    expect(toolNames(model)).toEqual(['read', 'write'])
    expect(warnings).toEqual([expect.stringContaining('two tools named read')])
    await (await runtime.createRun({ input: 'b', personaId: 'writer' })).result()
    expect(toolNames(model)).toEqual(['write'])
    // The server's list changed: the next run sees it, with no new agent version.
    fs.set([echo('read'), echo('write'), echo('list')])
    await (await runtime.createRun({ input: 'c', personaId: 'reader' })).result()
    expect(toolNames(model)).toEqual(['read', 'write', 'list'])
    await runtime.close()
    expect(fs.closed).toBe(1)
  })

  it('refuses an agent that names a toolset the runtime does not have, at open and in defineAgent', async () => {
    await expect(Runtime.open({ logger: silentLogger, model: scriptedModel([]), agents: [{ key: 'a', version: 1, toolsets: ['nope'] }] })).rejects.toMatchObject({
      code: 'validation.invalid',
      message: expect.stringContaining('toolset `nope`'),
    })
    const runtime = await Runtime.open({ logger: silentLogger, model: scriptedModel([]), toolsets: { fs: dynamicToolset([]) } })
    expect(() => runtime.defineAgent({ key: 'b', version: 1, toolsets: ['other'] })).toThrow(/toolset `other`/)
    expect(() => runtime.defineAgent({ key: 'c', version: 1, toolsets: [{ name: 'fs', allow: 'read' as never }] })).toThrow(/allow/)
    await runtime.close()
    await expect(Runtime.open({ model: scriptedModel([]), toolsets: { bad: {} as never } })).rejects.toThrow(/toolsets.bad/)
  })

  it('waits for the toolsets’ first lists before open resolves', async () => {
    let release!: () => void
    const slow: Toolset = { tools: () => [], ready: new Promise<void>((resolve) => (release = resolve)) }
    let opened = false
    const opening = Runtime.open({ logger: silentLogger, model: scriptedModel([]), toolsets: { slow } }).then((runtime) => {
      opened = true
      return runtime
    })
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(opened).toBe(false)
    release()
    await (await opening).close()
    expect(opened).toBe(true)
  })

  it('finds a toolset’s tool for an approved call after a restart, and runs it once', async () => {
    const temp = await tempDirectory()
    try {
      const calls: string[] = []
      const charge = tool({ name: 'charge', input: z.object({}), needsConfirmation: true, execute: () => (calls.push('charge'), 'charged') })
      const open = () =>
        Runtime.open({
          logger: silentLogger,
          store: sqliteStore({ path: temp.file('toolsets.db') }),
          model: scriptedModel((request) => (request.messages.at(-1)?.role === 'tool' ? reply('done') : callTools({ name: 'charge', arguments: {} }))),
          toolsets: { pay: dynamicToolset([charge]) },
          agents: [{ key: 'a', version: 1, toolsets: ['pay'] }],
        })
      const first = await open()
      const run = await first.createRun({ input: 'charge it' })
      for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
      await first.close()
      const second = await open()
      await second.submitInput(run.id, { approved: true })
      expect(await second.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'done' })
      expect(calls).toEqual(['charge'])
      await second.close()
    } finally {
      await temp.cleanup()
    }
  })
})
