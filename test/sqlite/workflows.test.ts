/**
 * Workflows (first step of issue 17) on a SQLite file: steps committed as
 * they return, replayed from the log after a close and a reopen without
 * running again, a changed workflow caught as nondeterministic, input
 * checked against the schema before anything is written.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, workflow, type AgentDefinition } from '../../src/index.js'
import { reply, scriptedModel } from '../../src/testing/index.js'

const directory = mkdtempSync(join(tmpdir(), 'hearth-workflows-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

const open = (path: string, workflows: AgentDefinition[]) =>
  Runtime.open({ store: sqliteStore({ path }), providers: { scripted: scriptedModel([]) }, routes: { default: { provider: 'scripted', model: 'm' } }, workflows })

const order = z.object({ item: z.string(), quantity: z.number().int() })

describe('workflows', () => {
  it('runs steps once each, commits their results, and ends with the function’s value; its session has type workflow', async () => {
    const ran: string[] = []
    const checkout = workflow({
      key: 'checkout',
      version: 1,
      input: order,
      run: async (ctx, input) => {
        const price = await ctx.step('price', () => (ran.push('price'), input.quantity * 3))
        const receipt = await ctx.step('charge', () => (ran.push('charge'), { charged: price, item: input.item }))
        return { receipt }
      },
    })
    const runtime = await open(join(directory, 'basic.db'), [checkout])
    try {
      const run = await runtime.createRun({ input: JSON.stringify({ item: 'tea', quantity: 2 }), personaId: 'checkout' })
      const done = await run.result()
      expect(done).toMatchObject({ status: 'completed', content: '{"receipt":{"charged":6,"item":"tea"}}', output: { receipt: { charged: 6, item: 'tea' } } })
      expect((await runtime.getSession(run.sessionId)).type).toBe('workflow')
      const steps = (await runtime.readEvents(run.id)).filter((event) => event.type.startsWith('workflow.')).map((event) => event.data)
      expect(steps).toEqual([
        { step: 0, name: 'price', output: 6 },
        { step: 1, name: 'charge', output: { charged: 6, item: 'tea' } },
      ])
      expect(ran).toEqual(['price', 'charge'])
      // Input the schema does not take is refused before anything is written.
      const before = (await runtime.listRuns()).length
      await expect(runtime.createRun({ input: '{"item": 3}', personaId: 'checkout' })).rejects.toMatchObject({ code: 'validation.invalid' })
      await expect(runtime.createRun({ input: 'not json', personaId: 'checkout' })).rejects.toMatchObject({ code: 'validation.invalid' })
      expect(await runtime.listRuns()).toHaveLength(before)
    } finally {
      await runtime.close()
    }
  })

  it('replays after a close and a reopen: a step whose result is in the log returns it without running again', async () => {
    const path = join(directory, 'replay.db')
    const counts = { fetch: 0, send: 0 }
    // The first runtime's `send` never returns (as if the process died in it); a closed runtime gives it up.
    const never = new Promise<void>(() => {})
    const flow = (waitForGate: boolean) =>
      workflow({
        key: 'report',
        version: 1,
        run: async (ctx, topic) => {
          const data = await ctx.step('fetch', () => (counts.fetch++, `data on ${topic}`))
          const sent = await ctx.step('send', async () => {
            if (waitForGate) await never
            counts.send++
            return `sent ${data}`
          })
          return sent
        },
      })
    const first = await open(path, [flow(true)])
    const run = await first.createRun({ input: 'tides', personaId: 'report' })
    for (let tries = 0; tries < 100 && (await first.readEvents(run.id)).every((event) => event.type !== 'workflow.step_completed'); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await first.close()
    expect(counts).toEqual({ fetch: 1, send: 0 })

    const second = await open(path, [flow(false)])
    try {
      const done = await second.waitForRun(run.id)
      expect(done).toMatchObject({ status: 'completed', content: 'sent data on tides' })
      expect(counts).toEqual({ fetch: 1, send: 1 })
      const events = await second.readEvents(run.id)
      expect(events.filter((event) => event.type === 'workflow.step_completed').map((event) => (event.data as { name: string }).name)).toEqual(['fetch', 'send'])
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    } finally {
      await second.close()
    }
  })

  it('fails a run whose workflow now calls another step at a recorded position with workflow.nondeterministic, running nothing', async () => {
    const path = join(directory, 'changed.db')
    let hold: Promise<void> = new Promise(() => {})
    const original = workflow({ key: 'flow', version: 1, run: async (ctx) => (await ctx.step('a', () => 1), await ctx.step('b', () => hold), 'done') })
    const first = await open(path, [original])
    const run = await first.createRun({ input: 'x', personaId: 'flow' })
    for (let tries = 0; tries < 100 && (await first.readEvents(run.id)).every((event) => event.type !== 'workflow.step_completed'); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await first.close()
    hold = Promise.resolve()
    let ranChanged = false
    const changed = workflow({ key: 'flow', version: 1, run: async (ctx) => (await ctx.step('other', () => (ranChanged = true)), 'changed') })
    const second = await open(path, [changed])
    try {
      const done = await second.waitForRun(run.id)
      expect(done).toMatchObject({ status: 'failed', error: { code: 'workflow.nondeterministic' } })
      expect(ranChanged).toBe(false)
    } finally {
      await second.close()
    }
  })

  it('records a step that threw as workflow.step_failed, and the run fails with its error when the workflow does not catch it', async () => {
    const failing = workflow({
      key: 'failing',
      version: 1,
      run: async (ctx) => {
        const caught = await ctx.step('flaky', () => {
          throw new Error('upstream down')
        }).catch((error: Error) => `caught: ${error.message}`)
        await ctx.step('fatal', () => {
          throw new Error('no way')
        })
        return caught
      },
    })
    const runtime = await open(join(directory, 'failing.db'), [failing])
    try {
      const run = await runtime.createRun({ input: 'x', personaId: 'failing' })
      const done = await run.result()
      expect(done).toMatchObject({ status: 'failed', error: { message: 'no way' } })
      const failed = (await runtime.readEvents(run.id)).filter((event) => event.type === 'workflow.step_failed').map((event) => event.data)
      expect(failed).toEqual([
        { step: 0, name: 'flaky', error: expect.objectContaining({ message: 'upstream down' }) },
        { step: 1, name: 'fatal', error: expect.objectContaining({ message: 'no way' }) },
      ])
    } finally {
      await runtime.close()
    }
  })

  it('cancels mid-step: the run ends cancelled at once, and the step’s late result is dropped', async () => {
    let finish: (() => void) | undefined
    const slow = workflow({ key: 'slow', version: 1, run: async (ctx) => await ctx.step('wait', () => new Promise<string>((resolve) => (finish = () => resolve('late')))) })
    const runtime = await open(join(directory, 'cancel.db'), [slow])
    try {
      const run = await runtime.createRun({ input: 'x', personaId: 'slow' })
      for (let tries = 0; tries < 100 && finish === undefined; tries++) await new Promise((resolve) => setTimeout(resolve, 5))
      await runtime.cancelRun(run.id, { reason: 'enough' })
      finish?.()
      const done = await runtime.waitForRun(run.id)
      expect(done).toMatchObject({ status: 'cancelled' })
      expect((await runtime.readEvents(run.id)).some((event) => event.type.startsWith('workflow.'))).toBe(false)
    } finally {
      await runtime.close()
    }
  })

  it('runs an agent as a child step and steps in parallel, at concurrency 1, and replays them after a reopen without running any twice', async () => {
    const path = join(directory, 'report.db')
    const counts = { x: 0, y: 0, summary: 0 }
    const research = scriptedModel((request) => {
      const user = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? ''
      return reply(`Found: ${user}`, { delayMs: 5 })
    })
    const report = workflow({
      key: 'report',
      version: 1,
      run: async (ctx, topic) => {
        const [x, y] = await ctx.parallel([() => ctx.step('x', () => (counts.x++, 'x')), () => ctx.step('y', () => (counts.y++, 'y'))])
        const notes = await ctx.runAgent('researcher@1', topic)
        return ctx.step('summary', () => (counts.summary++, `${x}${y}: ${String(notes)}`))
      },
    })
    const openReport = () =>
      Runtime.open({
        store: sqliteStore({ path }),
        providers: { scripted: research },
        routes: { default: { provider: 'scripted', model: 'm' } },
        agents: [{ key: 'researcher', version: 1, instructions: 'Research.' }],
        workflows: [report],
        concurrency: 1,
      })
    const runtime = await openReport()
    try {
      const run = await runtime.createRun({ input: 'moons', personaId: 'report' })
      const done = await run.result()
      expect(done).toMatchObject({ status: 'completed', content: 'xy: Found: moons' })
      const events = await runtime.readEvents(run.id)
      expect(events.filter((event) => event.type === 'workflow.step_completed').map((event) => (event.data as { name: string }).name)).toEqual(['x', 'y', 'agent researcher@1', 'summary'])
      const [child] = await runtime.listRuns({ parentRunId: run.id })
      expect(child).toMatchObject({ personaId: 'researcher@1', status: 'completed', parentToolCallId: 'step_2' })
      expect(events.filter((event) => event.type === 'subrun.completed')).toHaveLength(1)
      expect(counts).toEqual({ x: 1, y: 1, summary: 1 })
    } finally {
      await runtime.close()
    }
  })

  it('sleeps durably: the end time is in the log, the run holds no slot meanwhile, and a reopen keeps the same end', async () => {
    const path = join(directory, 'sleep.db')
    const counts = { before: 0, after: 0 }
    const napper = workflow({
      key: 'napper',
      version: 1,
      run: async (ctx) => {
        await ctx.step('before', () => counts.before++)
        await ctx.sleep(300)
        await ctx.step('after', () => counts.after++)
        return 'rested'
      },
    })
    const quick = workflow({ key: 'quick', version: 1, run: async (ctx) => ctx.step('only', () => 'quick done') })
    const first = await Runtime.open({ store: sqliteStore({ path }), providers: { scripted: scriptedModel([]) }, routes: { default: { provider: 'scripted', model: 'm' } }, workflows: [napper, quick], concurrency: 1 })
    const run = await first.createRun({ input: 'x', personaId: 'napper' })
    for (let tries = 0; tries < 200 && (await first.readEvents(run.id)).every((event) => event.type !== 'workflow.timer'); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    // Asleep, it holds no slot: at concurrency 1 another run goes through meanwhile.
    const other = await first.createRun({ input: 'y', personaId: 'quick' })
    expect(await other.result()).toMatchObject({ status: 'completed', content: 'quick done' })
    expect((await first.getRun(run.id)).status).toBe('running')
    await first.close()
    const timer = (await readTimer(path, run.id)) as { until: string }
    const second = await open(path, [napper])
    try {
      const done = await second.waitForRun(run.id)
      expect(done).toMatchObject({ status: 'completed', content: 'rested' })
      const events = await second.readEvents(run.id)
      expect(events.filter((event) => event.type === 'workflow.timer').map((event) => event.data)).toEqual([{ step: 1, until: timer.until }])
      const completedAt = Date.parse(events.find((event) => event.type === 'workflow.step_completed' && event.data.name === 'sleep')?.createdAt as string)
      expect(completedAt).toBeGreaterThanOrEqual(Date.parse(timer.until))
      expect(counts).toEqual({ before: 1, after: 1 })
      await expect(second.createRun({ input: 'x', personaId: 'napper' }).then((again) => again.id)).resolves.toMatch(/^run_/)
    } finally {
      await second.close()
    }
  })
})

describe('a workflow that asks for input', () => {
  it('waits (waiting_for_input, a request of kind input), across a close and a reopen, and goes on with the answer', async () => {
    const path = join(directory, 'input.db')
    const counts = { before: 0, after: 0 }
    const approval = workflow({
      key: 'approval',
      version: 1,
      run: async (ctx) => {
        await ctx.step('draft', () => counts.before++)
        const answer = await ctx.waitForInput({ prompt: 'Publish the draft?', data: { draft: 1 } })
        return ctx.step('publish', () => (counts.after++, answer.approved ? `published: ${answer.content}` : 'kept'))
      },
    })
    const first = await open(path, [approval])
    const run = await first.createRun({ input: 'x', personaId: 'approval' })
    for (let tries = 0; tries < 200 && (await first.getRun(run.id)).status !== 'waiting_for_input'; tries++) await new Promise((resolve) => setTimeout(resolve, 5))
    expect((await first.getRun(run.id)).pendingInput).toEqual([{ kind: 'input', tool_call_id: 'step_1', tool: 'input', arguments: { draft: 1 }, prompt: 'Publish the draft?' }])
    await first.close()
    const second = await open(path, [approval])
    try {
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect((await second.getRun(run.id)).status).toBe('waiting_for_input')
      await second.submitInput(run.id, { content: 'yes' })
      const done = await second.waitForRun(run.id)
      expect(done).toMatchObject({ status: 'completed', content: 'published: yes', pendingInput: [] })
      expect(counts).toEqual({ before: 1, after: 1 })
      const steps = (await second.readEvents(run.id)).filter((event) => event.type === 'workflow.step_completed').map((event) => event.data)
      expect(steps).toEqual([
        { step: 0, name: 'draft', output: 0 },
        { step: 1, name: 'input', output: { approved: true, content: 'yes' } },
        { step: 2, name: 'publish', output: 'published: yes' },
      ])
    } finally {
      await second.close()
    }
  })
})

/** The `workflow.timer` event of a run, read through an observer. */
async function readTimer(path: string, runId: string): Promise<unknown> {
  const observer = await Runtime.open({ store: sqliteStore({ path }), execute: false })
  try {
    return (await observer.readEvents(runId)).find((event) => event.type === 'workflow.timer')?.data
  } finally {
    await observer.close()
  }
}
