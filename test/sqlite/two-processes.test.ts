import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, type RunEvent } from '../../src/index.js'
import { reply, scriptedModel, type ScriptedModel } from '../../src/testing/index.js'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

const childEntry = fileURLToPath(new URL('./executor-child.ts', import.meta.url))

let temp: TempDirectory
let path: string
beforeEach(async () => {
  temp = await tempDirectory()
  path = temp.file('shared.db')
})
afterEach(async () => {
  await temp.cleanup()
})

/** The child's stdout, line by line, with a wait for the next line that starts with a word. */
function lines(child: ChildProcessWithoutNullStreams): (word: string) => Promise<{ line: string; at: number }> {
  const seen: { line: string; at: number }[] = []
  const waiters: (() => void)[] = []
  let stderr = ''
  let buffered = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk
    for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
      seen.push({ line: buffered.slice(0, newline), at: performance.now() })
      buffered = buffered.slice(newline + 1)
    }
    for (const wake of waiters.splice(0)) wake()
  })
  return async (word) => {
    const deadline = Date.now() + 15_000
    for (;;) {
      const found = seen.find((entry) => entry.line.startsWith(`${word} `))
      if (found !== undefined) return found
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`No ${word} line from the child; stderr: ${stderr}`)
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
  }
}

describe('two processes on one SQLite file', () => {
  it('lets an observer list, replay and tail a run that another process executes, without claiming it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', childEntry, path], { stdio: ['pipe', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      const next = lines(child)
      const [, runId, childOwner] = (await next('RUN')).line.split(' ') as [string, string, string]
      expect(childOwner).toMatch(/^own_/)

      const store = sqliteStore({ path })
      const observer = await Runtime.open({ store, execute: false })
      expect(observer.ownerId).toBeUndefined()
      const listed = await observer.listRuns({ limit: 10, orgId: undefined })
      expect(listed.map((run) => run.id)).toEqual([runId])

      const events: RunEvent[] = []
      const arrivals: number[] = []
      for await (const event of observer.runEvents(runId)) {
        events.push(event)
        arrivals.push(performance.now())
      }

      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
      expect(events.at(-1)?.type).toBe('run.completed')
      expect(events.filter((event) => event.type === 'message.delta')).toHaveLength(40)
      expect(events.filter((event) => event.type === 'run.started')).toHaveLength(1)
      // Live, not one read at the end: the events came in over the run's ~600 ms of streaming.
      expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(200)
      // And the tail ended with the run: the loop above left after the terminal event.
      const done = await next('DONE')
      expect(done.line).toBe('DONE completed')

      // The observer never claimed or executed: the child's owner kept the run throughout.
      expect(await store.getRunOwner(runId)).toBe(childOwner)
      expect((await store.listOwners()).map((owner) => owner.id)).toEqual([childOwner])
      expect((await observer.getRun(runId)).status).toBe('completed')
      // A replay after the end gives the same log.
      const replay: RunEvent[] = []
      for await (const event of observer.runEvents(runId)) replay.push(event)
      expect(replay).toEqual(events)

      child.stdin.end()
      expect(await exited).toBe(0)
      expect(await store.listOwners()).toEqual([])
      await observer.close()
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  }, 20_000)

  it('never lets two executing runtimes execute the same queued run', async () => {
    const agents = [{ key: 'worker', version: 1, instructions: 'Work.' }]
    const routes = { default: { provider: 'scripted', model: 'm' } }
    const observer = await Runtime.open({ store: sqliteStore({ path }), execute: false, agents, routes, providers: { scripted: scriptedModel([reply('unused')]) } })
    const inputs = Array.from({ length: 20 }, (_, index) => `job ${index}`)
    const sessions = await Promise.all(Array.from({ length: 5 }, () => observer.createSession()))
    const runIds: string[] = []
    const create = async (from: number, to: number): Promise<void> => {
      for (let index = from; index < to; index++) {
        runIds.push((await observer.createRun((sessions[index % 5] as { id: string }).id, { input: inputs[index] as string })).id)
      }
    }
    await create(0, 10)

    const models: ScriptedModel[] = []
    const executor = async (): Promise<Runtime> => {
      const model = scriptedModel([reply('done and done', { delayMs: 2 })])
      models.push(model)
      return Runtime.open({ store: sqliteStore({ path, watchIntervalMs: 10 }), agents, routes, providers: { scripted: model } })
    }
    const [a, b] = await Promise.all([executor(), executor()])
    // Half of the runs arrive while both executors watch the file, so both race to claim them.
    await create(10, 20)

    const finished = await Promise.all(runIds.map((runId) => observer.waitForRun(runId)))
    expect(finished.map((run) => run.status)).toEqual(runIds.map(() => 'completed'))
    for (const runId of runIds) {
      const events: RunEvent[] = []
      for await (const event of observer.runEvents(runId)) events.push(event)
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
      expect(events.filter((event) => event.type === 'run.started')).toHaveLength(1)
      expect([a.ownerId, b.ownerId]).toContain(await observer.store.getRunOwner?.(runId))
    }
    // The model was asked once per run, by one executor or the other.
    const asked = models.flatMap((model) => model.requests.map((request) => request.messages.findLast((message) => message.role === 'user')?.content))
    expect(asked.sort()).toEqual([...inputs].sort())
    await Promise.all([a.close(), b.close(), observer.close()])
  }, 20_000)

  it('takes over at once the run of a process killed on this host, without waiting for its lease', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', childEntry, path], { stdio: ['pipe', 'pipe', 'pipe'] })
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
    const store = sqliteStore({ path })
    const observer = await Runtime.open({ store, execute: false })
    let runId: string
    let childOwner: string
    try {
      ;[, runId, childOwner] = (await lines(child)('RUN')).line.split(' ') as [string, string, string]
      // Kill it mid-stream, once some deltas are committed.
      for await (const event of observer.runEvents(runId)) if (event.type === 'message.delta' && event.seq >= 5) break
    } finally {
      child.kill('SIGKILL')
    }
    await exited
    expect((await store.listOwners()).map((owner) => owner.id)).toEqual([childOwner])

    const survivor = await Runtime.open({
      store: sqliteStore({ path }),
      // A lease far longer than the test: only the dead pid can explain a prompt takeover.
      leaseMs: 600_000,
      providers: { scripted: scriptedModel([reply('taken over')]) },
      routes: { default: { provider: 'scripted', model: 'slow' } },
      agents: [{ key: 'elsewhere', version: 1, instructions: 'Take your time.' }],
    })
    const done = await survivor.waitForRun(runId)
    expect(done).toMatchObject({ status: 'completed', content: 'taken over' })
    expect(await store.getRunOwner(runId)).toBe(survivor.ownerId)
    expect((await store.listOwners()).map((owner) => owner.id)).toEqual([survivor.ownerId])
    const events: RunEvent[] = []
    for await (const event of observer.runEvents(runId)) events.push(event)
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    expect(events.filter((event) => event.type === 'run.resumed')).toHaveLength(1)
    await survivor.close()
    await observer.close()
  }, 20_000)
})
