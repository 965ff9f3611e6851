import { describe, expect, it } from 'vitest'
import { callTools, reply } from 'hearth-runtime/testing'
import { z } from 'zod'
import { tool } from 'hearth-runtime'
import { collect, openRuntime } from '../helpers.js'

const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'done' })

describe('every TypeScript API method that takes orgId refuses another org’s ids', () => {
  it('as not found, and changes nothing', async () => {
    const { runtime } = await openRuntime([callTools({ name: 'confirm', arguments: {} }), reply('finished')], { agent: { tools: [confirm] } })
    const session = await runtime.createSession({ orgId: 'acme', title: 'mine' })
    const run = await runtime.createRun(session.id, { input: 'x', orgId: 'acme' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    const other = { orgId: 'other' }
    const notThread = { code: 'not_found.thread' }
    const notRun = { code: 'not_found.run' }

    await expect(runtime.getSession(session.id, other)).rejects.toMatchObject(notThread)
    await expect(runtime.updateSession(session.id, { title: 'theirs' }, other)).rejects.toMatchObject(notThread)
    await expect(runtime.deleteSession(session.id, other)).rejects.toMatchObject(notThread)
    expect(await runtime.listSessions(other)).toEqual([])
    await expect(runtime.createRun(session.id, { input: 'y', orgId: 'other' })).rejects.toMatchObject(notThread)
    await expect(runtime.getRun(run.id, other)).rejects.toMatchObject(notRun)
    await expect(runtime.run(run.id, other)).rejects.toMatchObject(notRun)
    expect(await runtime.listRuns(other)).toEqual([])
    await expect(runtime.listRuns({ orgId: 'other', sessionId: session.id })).resolves.toEqual([])
    await expect(runtime.readEvents(run.id, other)).rejects.toMatchObject(notRun)
    await expect(runtime.getRunTree(run.id, other)).rejects.toMatchObject(notRun)
    expect(await runtime.listRuns({ orgId: 'other', parentRunId: run.id })).toEqual([])
    await expect(collect(runtime.runEvents(run.id, other))).rejects.toMatchObject(notRun)
    await expect(runtime.submitInput(run.id, { approved: true, orgId: 'other' })).rejects.toMatchObject(notRun)
    await expect(runtime.cancelRun(run.id, other)).rejects.toMatchObject(notRun)

    // Nothing of it reached the run or its session.
    expect(await runtime.getSession(session.id, { orgId: 'acme' })).toMatchObject({ title: 'mine' })
    expect((await runtime.getRun(run.id, { orgId: 'acme' })).status).toBe('waiting_for_input')
    expect(await runtime.listRuns({ sessionId: session.id })).toHaveLength(1)
    // The right org gets through.
    expect(await runtime.readEvents(run.id, { orgId: 'acme' })).not.toEqual([])
    await runtime.submitInput(run.id, { approved: true, orgId: 'acme' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: 'finished' })
    await runtime.close()
  })
})
