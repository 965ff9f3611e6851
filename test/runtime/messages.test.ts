import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, tool, type ModelProvider, type ModelRequest, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { tempDirectory, type TempDirectory } from '../sqlite/temp-dir.js'
import { collect } from '../helpers.js'

/** A model that answers `re <the user's message>`, except that a run whose input is `hold` waits until `release()`. */
function gatedModel() {
  const gates: (() => void)[] = []
  const requests: ModelRequest[] = []
  const provider: ModelProvider = {
    model: 'gated',
    async *stream(request, { signal }) {
      requests.push(request)
      const user = request.messages.findLast((message) => message.role === 'user')
      if (user?.content === 'hold') {
        await new Promise<void>((resolve, reject) => {
          gates.push(resolve)
          signal.addEventListener('abort', () => reject(signal.reason), { once: true })
        })
      }
      yield { type: 'text-delta', text: `re ${user?.content ?? ''}` }
      yield { type: 'finish', reason: 'stop' }
    },
  }
  return { provider, requests, held: () => gates.length, release: () => gates.shift()?.() }
}

async function openGated(maxInputBytes?: number) {
  const model = gatedModel()
  const runtime = await Runtime.open({ model: model.provider, ...(maxInputBytes === undefined ? {} : { maxInputBytes }) })
  return { runtime, model }
}

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 2))
}

const typesOf = (events: readonly RunEvent[]) => events.map((event) => event.type)

describe('thread messages', () => {
  it('are added unanswered and listed newest first, with limit and before', async () => {
    const { runtime } = await openGated()
    const session = await runtime.createSession()
    const added = []
    for (const content of ['one', 'two', 'three']) added.push(await runtime.addMessage(session.id, { content }))
    expect(added[0]).toEqual({ id: expect.stringMatching(/^msg_/), sessionId: session.id, role: 'user', content: 'one', runId: null, createdAt: expect.stringMatching(/Z$/) })
    expect(await runtime.listMessages(session.id)).toEqual([...added].reverse())
    const page = await runtime.listMessages(session.id, { limit: 2 })
    expect(page.map((message) => message.content)).toEqual(['three', 'two'])
    expect(await runtime.listMessages(session.id, { before: page[1]?.id })).toEqual([added[0]])
    expect(await runtime.listMessages((await runtime.createSession()).id)).toEqual([])
    await runtime.close()
  })

  it('refuse bad arguments with their codes, and another org’s thread as not found', async () => {
    const { runtime } = await openGated(16)
    const session = await runtime.createSession({ orgId: 'acme' })
    const other = await runtime.createSession({ orgId: 'acme' })
    const elsewhere = await runtime.addMessage(other.id, { content: 'there' })
    const cases: [Promise<unknown>, string][] = [
      [runtime.addMessage(session.id, { content: 42 as never }), 'validation.invalid'],
      [runtime.addMessage(session.id, {} as never), 'validation.invalid'],
      [runtime.addMessage(session.id, null as never), 'validation.invalid'],
      [runtime.addMessage(session.id, { content: 'x'.repeat(17) }), 'validation.too_large'],
      [runtime.addMessage(session.id, { content: '\u00e9'.repeat(9) }), 'validation.too_large'],
      [runtime.addMessage(session.id, { content: 'half \ud800 a pair' }), 'validation.invalid'],
      [runtime.addMessage('thr_missing', { content: 'x' }), 'not_found.thread'],
      [runtime.addMessage(session.id, { content: 'x', orgId: 'other' }), 'not_found.thread'],
      [runtime.listMessages(session.id, { orgId: 'other' }), 'not_found.thread'],
      [runtime.listMessages('thr_missing'), 'not_found.thread'],
      [runtime.listMessages(session.id, { limit: 0 }), 'validation.invalid'],
      [runtime.listMessages(session.id, { limit: 101 }), 'validation.invalid'],
      [runtime.listMessages(session.id, { before: 'msg_missing' }), 'validation.invalid'],
      [runtime.listMessages(session.id, { before: elsewhere.id }), 'validation.invalid'],
      [runtime.createRun(session.id, { orgId: 'other' }), 'not_found.thread'],
    ]
    for (const [call, code] of cases) await expect(call).rejects.toMatchObject({ code })
    // 16 bytes is the limit, not over it.
    expect((await runtime.addMessage(session.id, { content: 'x'.repeat(16), orgId: 'acme' })).content).toHaveLength(16)
    expect(await runtime.listMessages(session.id, { orgId: 'acme' })).toHaveLength(1)
    await runtime.close()
  })
})

describe('a run without input', () => {
  it('takes every unanswered message when it starts, their contents joined by a blank line as its input', async () => {
    const { runtime, model } = await openGated()
    const session = await runtime.createSession()
    const first = await runtime.addMessage(session.id, { content: 'Hello.' })
    const second = await runtime.addMessage(session.id, { content: 'Are you there?' })
    const run = await runtime.createRun(session.id, {})
    const events = await collect(run.events())
    expect(events[0]).toMatchObject({ type: 'run.started', data: { message_ids: [first.id, second.id] } })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', input: 'Hello.\n\nAre you there?', messageIds: [first.id, second.id], content: 're Hello.\n\nAre you there?' })
    expect(model.requests[0]?.messages.filter((message) => message.role === 'user').map((message) => message.content)).toEqual(['Hello.\n\nAre you there?'])
    expect((await runtime.listMessages(session.id)).map((message) => message.runId)).toEqual([run.id, run.id])

    // Nothing left to answer: refused at creation, and nothing is stored.
    await expect(runtime.createRun(session.id, {})).rejects.toMatchObject({ code: 'state.invalid' })
    expect(await runtime.listRuns({ sessionId: session.id })).toHaveLength(1)
    // A run given input leaves the thread's messages alone.
    const waiting = await runtime.addMessage(session.id, { content: 'later' })
    expect(await (await runtime.createRun(session.id, { input: 'direct' })).result()).toMatchObject({ input: 'direct', messageIds: null })
    expect((await runtime.listMessages(session.id, { limit: 1 }))[0]).toEqual(waiting)
    // The next run's history holds the answered messages as one user message.
    const next = await (await runtime.createRun(session.id, {})).result()
    expect(next.input).toBe('later')
    expect(model.requests.at(-1)?.messages.map((message) => [message.role, message.content, message.fromHistory ?? false])).toEqual([
      ['user', 'Hello.\n\nAre you there?', true],
      ['assistant', 're Hello.\n\nAre you there?', true],
      ['user', 'direct', true],
      ['assistant', 're direct', true],
      ['user', 'later', false],
    ])
    await runtime.close()
  })

  it('keeps an agent’s instructions first and puts the messages in the user’s turn', async () => {
    const model = gatedModel()
    const runtime = await Runtime.open({ model: model.provider, agents: [{ key: 'polite', version: 1, instructions: 'Be polite.' }] })
    const session = await runtime.createSession({ agent: 'polite' })
    await runtime.addMessage(session.id, { content: 'Hi.' })
    expect(await (await runtime.createRun(session.id, {})).result()).toMatchObject({ status: 'completed', input: 'Hi.' })
    expect(model.requests[0]?.messages.map((message) => [message.role, message.content])).toEqual([
      ['system', 'Be polite.'],
      ['user', 'Hi.'],
    ])
    await runtime.close()
  })

  it('is refused on a thread with no messages (state.invalid), and needs input without a session (validation.invalid)', async () => {
    const { runtime } = await openGated()
    const session = await runtime.createSession()
    await expect(runtime.createRun(session.id, {})).rejects.toMatchObject({ code: 'state.invalid' })
    await expect(runtime.createRun({} as never)).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.createRun(session.id, { input: 5 as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    expect(await runtime.listRuns()).toEqual([])
    expect((await runtime.listSessions()).map((entry) => entry.id)).toEqual([session.id])
    await runtime.close()
  })

  it('queued behind another run takes the messages unanswered when it starts, not when it was created', async () => {
    const { runtime, model } = await openGated()
    const session = await runtime.createSession()
    const active = await runtime.createRun(session.id, { input: 'hold' })
    await until(() => model.held() === 1)
    const early = await runtime.addMessage(session.id, { content: 'early' })
    const queued = await runtime.createRun(session.id, {})
    expect(await runtime.getRun(queued.id)).toMatchObject({ status: 'queued', input: '', messageIds: [] })
    const late = await runtime.addMessage(session.id, { content: 'late' })
    model.release()
    await active.result()
    const done = await queued.result()
    expect(done).toMatchObject({ status: 'completed', input: 'early\n\nlate', messageIds: [early.id, late.id] })
    expect(typesOf(await collect(queued.events())).slice(0, 2)).toEqual(['run.queued', 'run.started'])
    await runtime.close()
  })

  it('never lets two queued runs take the same message: the second finds none and fails with state.invalid, without a model call', async () => {
    const { runtime, model } = await openGated()
    const session = await runtime.createSession()
    const active = await runtime.createRun(session.id, { input: 'hold' })
    await until(() => model.held() === 1)
    const message = await runtime.addMessage(session.id, { content: 'once' })
    const first = await runtime.createRun(session.id, {})
    const second = await runtime.createRun(session.id, {})
    model.release()
    await active.result()
    expect(await first.result()).toMatchObject({ status: 'completed', messageIds: [message.id] })
    const failed = await second.result()
    expect(failed).toMatchObject({ status: 'failed', messageIds: [], input: '', error: { code: 'state.invalid', message: expect.stringContaining('no unanswered message') } })
    const events = await collect(second.events())
    expect(typesOf(events)).toEqual(['run.queued', 'run.started', 'run.failed'])
    expect(events[1]).toMatchObject({ data: { message_ids: [] } })
    expect(model.requests).toHaveLength(2)
    expect((await runtime.listMessages(session.id))[0]?.runId).toBe(first.id)
    await runtime.close()
  })
})

describe('a run without input on a SQLite file', () => {
  let temp: TempDirectory
  beforeEach(async () => {
    temp = await tempDirectory()
  })
  afterEach(async () => {
    await temp.cleanup()
  })

  const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'ok' })
  const open = (path: string) =>
    Runtime.open({
      store: sqliteStore({ path }),
      providers: {
        scripted: scriptedModel((request) => {
          const last = request.messages.at(-1)
          if (last?.role === 'user' && last.content === 'wait') return callTools({ name: 'confirm', arguments: {} })
          return reply(`re ${last?.role === 'user' ? last.content : 'confirmed'}`)
        }),
      },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [{ key: 'a', version: 1, tools: [confirm] }],
    })

  it('queued when its process stopped, takes the messages unanswered when the next runtime starts it', async () => {
    const path = temp.file('messages.db')
    const first = await open(path)
    const session = await first.createSession()
    const waiting = await first.createRun(session.id, { input: 'wait' })
    for await (const event of waiting.events()) if (event.type === 'run.waiting_for_input') break
    const before = await first.addMessage(session.id, { content: 'before the restart' })
    const queued = await first.createRun(session.id, {})
    await first.close()

    const second = await open(path)
    expect(await second.getRun(queued.id)).toMatchObject({ status: 'queued', messageIds: [], input: '' })
    const after = await second.addMessage(session.id, { content: 'after it' })
    await second.submitInput(waiting.id, { approved: true })
    expect(await second.waitForRun(queued.id)).toMatchObject({
      status: 'completed',
      input: 'before the restart\n\nafter it',
      messageIds: [before.id, after.id],
      content: 're before the restart\n\nafter it',
    })
    expect((await second.listMessages(session.id)).map((message) => message.runId)).toEqual([queued.id, queued.id])
    await second.close()
  })
})
