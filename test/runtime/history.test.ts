import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, tool, type ModelRequest, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { tempDirectory, type TempDirectory } from '../sqlite/temp-dir.js'
import { collect, openRuntime } from '../helpers.js'

const historyOf = (request: ModelRequest | undefined): string[] =>
  (request?.messages ?? []).filter((message) => message.fromHistory === true).map((message) => `${message.role}:${message.content}`)

const startedData = (events: readonly RunEvent[]) => {
  const started = events.find((event) => event.type === 'run.started')
  if (started?.type !== 'run.started') throw new Error('no run.started')
  return started.data
}

describe('history recorded in run.started', () => {
  it('names the session’s latest completed runs, oldest first, and never a failed or cancelled one', async () => {
    const { runtime } = await openRuntime((request) => {
      const last = request.messages.at(-1)
      if (last?.content === 'fail') return [{ error: { code: 'provider.unavailable' } }]
      if (last?.content === 'slow') return [{ delay: 1000 }, { text: 'late' }]
      return reply(`re ${String(last?.content)}`)
    }, { agent: { historyRuns: 2 } })
    const session = await runtime.createSession()
    await (await runtime.createRun(session.id, { input: 'one' })).result()
    const two = await (await runtime.createRun(session.id, { input: 'two' })).result()
    await (await runtime.createRun(session.id, { input: 'fail' })).result()
    const slow = await runtime.createRun(session.id, { input: 'slow' })
    await slow.cancel()
    const three = await (await runtime.createRun(session.id, { input: 'three' })).result()
    const four = await runtime.createRun(session.id, { input: 'four' })
    expect(startedData(await collect(four.events())).history_run_ids).toEqual([two.id, three.id])
    const five = await runtime.createRun(session.id, { input: 'five' })
    expect(startedData(await collect(five.events())).history_run_ids).toEqual([three.id, four.id])
    const fresh = await runtime.createRun({ input: 'alone' })
    expect(startedData(await collect(fresh.events())).history_run_ids).toEqual([])
    await runtime.close()
  })

  it('records none for an agent with historyRuns 0', async () => {
    const { runtime, model } = await openRuntime([reply('ok')], { agent: { historyRuns: 0 } })
    const session = await runtime.createSession()
    await (await runtime.createRun(session.id, { input: 'one' })).result()
    const second = await runtime.createRun(session.id, { input: 'two' })
    expect(startedData(await collect(second.events())).history_run_ids).toEqual([])
    expect(historyOf(model.requests[1])).toEqual([])
    await runtime.close()
  })
})

describe('a run resumed after a restart', () => {
  let temp: TempDirectory
  beforeEach(async () => {
    temp = await tempDirectory()
  })
  afterEach(async () => {
    await temp.cleanup()
  })

  const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'confirmed' })

  /** A runtime whose agent `a@1` keeps `historyRuns` runs of history; input `wait` asks for a confirmation. */
  function open(path: string, historyRuns: number) {
    const model = scriptedModel((request) => {
      const last = request.messages.at(-1)
      if (last?.role === 'user' && last.content === 'wait') return callTools({ name: 'confirm', arguments: {} })
      return reply(`re ${last?.role === 'user' ? last.content : 'tool'}`)
    })
    return {
      model,
      runtime: Runtime.open({
        store: sqliteStore({ path }),
        providers: { scripted: model },
        routes: { default: { provider: 'scripted', model: 'm' } },
        agents: [{ key: 'a', version: 1, tools: [confirm], historyRuns }],
      }),
    }
  }

  it('is sent the history its run.started recorded, read from those runs, even where a new count would pick others', async () => {
    const path = temp.file('history.db')
    const before = open(path, 1)
    const first = await before.runtime
    const session = await first.createSession()
    await (await first.createRun(session.id, { input: 'w' })).result()
    const x = await (await first.createRun(session.id, { input: 'x' })).result()
    const waiting = await first.createRun(session.id, { input: 'wait' })
    for await (const event of waiting.events()) if (event.type === 'run.waiting_for_input') break
    expect(historyOf(before.model.requests.at(-1))).toEqual(['user:x', 'assistant:re x'])
    await first.close()

    // The same agent version opened with another history count (a redeploy that forgot to bump the version).
    const after = open(path, 5)
    const second = await after.runtime
    await second.submitInput(waiting.id, { approved: true })
    expect(await second.waitForRun(waiting.id)).toMatchObject({ status: 'completed', content: 're tool' })
    expect(startedData(await collect(second.runEvents(waiting.id))).history_run_ids).toEqual([x.id])
    expect(historyOf(after.model.requests.at(-1))).toEqual(['user:x', 'assistant:re x'])
    await second.close()
  })
})
