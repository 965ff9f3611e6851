/**
 * The TypeScript API refuses a lone surrogate in `createRun`'s `input` and
 * `submitInput`'s `content` (`validation.invalid`, details `{ path }`)
 * instead of storing text that would come back as U+FFFD.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Runtime, ValidationError, tool } from 'hearth-runtime'
import { reply, scriptedModel } from 'hearth-runtime/testing'
import { z } from 'zod'

const confirm = tool({ name: 'confirm_me', description: 'Needs a yes.', input: z.object({}), needsConfirmation: true, execute: () => 'done' })
let runtime: Runtime

beforeAll(async () => {
  runtime = await Runtime.open({
    model: scriptedModel([[{ toolCall: { name: 'confirm_me', arguments: '{}' } }], reply('ok')]),
    agents: [{ key: 'a', version: 1, tools: [confirm] }],
  })
})

afterAll(() => runtime.close())

describe('lone surrogates in the TypeScript API', () => {
  it('createRun refuses one in input, and makes no run', async () => {
    const session = await runtime.createSession()
    for (const input of ['\ud800', 'a\udc00b', '\udc00\ud800', 'end \udbff']) {
      const refused = runtime.createRun(session.id, { input })
      await expect(refused).rejects.toBeInstanceOf(ValidationError)
      await expect(refused).rejects.toMatchObject({ code: 'validation.invalid', details: { path: ['input'] } })
    }
    await expect(runtime.createRun({ input: 'x\ud800' })).rejects.toMatchObject({ code: 'validation.invalid', details: { path: ['input'] } })
    expect(await runtime.listRuns({ sessionId: session.id })).toEqual([])
  })

  it('submitInput refuses one in content, and the run keeps waiting; a whole pair is fine', async () => {
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'go 😀' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    await expect(runtime.submitInput(run.id, { content: 'no \ud800' })).rejects.toMatchObject({ code: 'validation.invalid', details: { path: ['content'] } })
    expect((await runtime.getRun(run.id)).status).toBe('waiting_for_input')
    await runtime.submitInput(run.id, { content: 'yes 😀' })
    expect(await run.result()).toMatchObject({ status: 'completed', input: 'go 😀' })
  })
})
