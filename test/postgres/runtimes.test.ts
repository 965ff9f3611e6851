/**
 * Several runtimes on one PostgreSQL database, each with a store object of
 * its own (its own pool and its own LISTEN connection), as replicas on
 * different hosts would be: live reads across replicas, input and cancel
 * through a replica that does not own the run, the lease as the only sign
 * of life, and the listening connection coming back after the server cut it.
 */
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { postgresStore, type PostgresStore } from '../../adapters/postgres/index.js'
import { Runtime, silentLogger, tool, type RunEvent, type RuntimeOptions } from '../../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn } from '../../src/testing/index.js'
import { collect } from '../helpers.js'
import { spawnZombie } from '../zombie.js'
import { adminUrl, postgresReachable, testDatabase } from './pg-server.js'

const reachable = await postgresReachable()
const url = reachable ? await testDatabase('runtimes') : ''

const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'confirmed' })

const opened: Runtime[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((runtime) => runtime.close()))
})

let schemas = 0

/** A runtime on the test database, in `schema`, whose runs follow `script`. */
async function replica(schema: string, name: string, script: readonly ScriptedTurn[], extra: Partial<RuntimeOptions> = {}): Promise<{ runtime: Runtime; store: PostgresStore }> {
  const store = postgresStore({ connectionString: url }, { schema, logger: silentLogger })
  const runtime = await Runtime.open({
    store,
    leaseMs: 600_000,
    logger: silentLogger,
    providers: { scripted: scriptedModel(script) },
    routes: { default: { provider: 'scripted', model: name } },
    agents: [{ key: 'desk', version: 1, tools: [confirm] }],
    ...extra,
  })
  opened.push(runtime)
  return { runtime, store }
}

const asksThenAnswers = (answer: string): ScriptedTurn[] => [callTools({ name: 'confirm', arguments: {}, id: 'k1' }), reply(answer)]

async function until(runtime: Runtime, runId: string, type: RunEvent['type']): Promise<void> {
  for await (const event of runtime.runEvents(runId)) if (event.type === type) return
  throw new Error(`run ${runId} ended without ${type}`)
}

/** Waits, in steps of 10 ms and at most 10 s, until `check` is true. */
async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function expectDense(events: readonly RunEvent[]): void {
  expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
}

describe.skipIf(!reachable)('runtimes on one PostgreSQL database', () => {
  it('report the same db_id, kept in the database', async () => {
    const schema = `replicas_${++schemas}`
    const a = await replica(schema, 'a', [reply('x')])
    const b = await replica(schema, 'b', [reply('x')])
    expect(a.store.id).toMatch(/^db_/)
    expect(b.store.id).toBe(a.store.id)
  })

  it('let a reader on one replica follow a run executing on another, with no gap and no duplicate', async () => {
    const schema = `replicas_${++schemas}`
    const words = Array.from({ length: 60 }, (_, index) => `w${index} `).join('')
    const a = await replica(schema, 'a', [reply(words, { delayMs: 3 })])
    const b = await replica(schema, 'b', [reply('never')], { execute: false })
    const run = await a.runtime.createRun({ input: 'stream' })
    const [followed, local] = await Promise.all([collect(b.runtime.runEvents(run.id)), collect(a.runtime.runEvents(run.id))])
    expectDense(followed)
    expect(followed).toEqual(local)
    expect(followed.at(-1)?.type).toBe('run.completed')
    expect(followed.filter((event) => event.type === 'message.delta')).toHaveLength(60)
    expect(await b.runtime.getRun(run.id)).toMatchObject({ status: 'completed', content: words })
  })

  it('send input and cancel through a replica that does not own the run to its owner, which applies each once', async () => {
    const schema = `replicas_${++schemas}`
    const a = await replica(schema, 'a', asksThenAnswers('answered by a'))
    const b = await replica(schema, 'b', asksThenAnswers('answered by b'))
    const first = await a.runtime.createRun({ input: 'one' })
    await until(a.runtime, first.id, 'run.waiting_for_input')
    await b.runtime.submitInput(first.id, { content: 'yes' })
    expect(await b.runtime.waitForRun(first.id)).toMatchObject({ status: 'completed', content: 'answered by a' })
    expect(await a.store.getRunOwner(first.id)).toBe(a.runtime.ownerId)
    const events = await collect(b.runtime.runEvents(first.id))
    expectDense(events)
    expect(events.filter((event) => event.type === 'run.input_received')).toHaveLength(1)

    const second = await a.runtime.createRun({ input: 'two' })
    await until(b.runtime, second.id, 'run.waiting_for_input')
    await b.runtime.cancelRun(second.id, { reason: 'from b' })
    expect(await a.runtime.getRun(second.id)).toMatchObject({ status: 'cancelled', pendingInput: [] })
    expect((await collect(a.runtime.runEvents(second.id))).at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'from b' } })
    expect(await a.store.getRunOwner(second.id)).toBe(a.runtime.ownerId)
  })

  it('start a run queued on a session another replica’s run holds as soon as that run ends (announced as ended runs, not waiting for a heartbeat)', async () => {
    const schema = `replicas_${++schemas}`
    const a = await replica(schema, 'a', asksThenAnswers('first done'))
    const b = await replica(schema, 'b', [reply('second done')])
    const first = await a.runtime.createRun({ input: 'one' })
    await until(a.runtime, first.id, 'run.waiting_for_input')
    const second = await b.runtime.createRun(first.sessionId, { input: 'two' })
    expect((await b.runtime.getRun(second.id)).status).toBe('queued')
    await a.runtime.submitInput(first.id, { content: 'yes' })
    expect(await a.runtime.waitForRun(first.id)).toMatchObject({ status: 'completed' })
    // The lease is 10 minutes: only the notification that the first run ended can start the second now.
    expect(await b.runtime.waitForRun(second.id)).toMatchObject({ status: 'completed', content: 'second done' })
    expect(await a.store.getRunOwner(second.id)).toBe(b.runtime.ownerId)
  })

  it('take a run from an owner only once its lease ran out, never because its pid is gone here', async () => {
    const schema = `replicas_${++schemas}`
    const a = await replica(schema, 'a', asksThenAnswers('answered by a'))
    const b = await replica(schema, 'b', asksThenAnswers('answered by b'))
    const run = await a.runtime.createRun({ input: 'please' })
    await until(a.runtime, run.id, 'run.waiting_for_input')
    const owner = (await a.store.listOwners()).find((entry) => entry.id === a.runtime.ownerId)
    if (owner === undefined) throw new Error('a is not registered')
    // On SQLite, an owner on this host whose process is a zombie is dead at once; here its pid means nothing.
    const zombie = await spawnZombie()
    try {
      await a.store.registerOwner({ ...owner, pid: zombie.pid })
      await b.runtime.submitInput(run.id, { content: 'yes' })
      expect(await b.runtime.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'answered by a' })
    } finally {
      await zombie.release()
    }

  })

  it('take a running run over from an owner silent past its lease, resume it from its log, and fence the old owner off', async () => {
    const schema = `replicas_${++schemas}`
    const words = Array.from({ length: 40 }, (_, index) => `a${index} `).join('')
    const a = await replica(schema, 'a', [reply(words, { delayMs: 20 })])
    const b = await replica(schema, 'b', [reply('resumed by b')])
    const run = await a.runtime.createRun({ input: 'long' })
    let seen = 0
    for await (const event of a.runtime.runEvents(run.id)) if (event.type === 'message.delta' && ++seen === 3) break
    const owner = (await a.store.listOwners()).find((entry) => entry.id === a.runtime.ownerId)
    if (owner === undefined) throw new Error('a is not registered')
    // a goes on streaming, but to the store it has been silent past its lease (a long pause, a partition).
    await a.store.registerOwner({ ...owner, heartbeatAt: new Date(Date.now() - 600_001).toISOString() })
    const done = await b.runtime.waitForRun(run.id)
    expect(done).toMatchObject({ status: 'completed' })
    expect(done.content).toMatch(/resumed by b$/)
    expect(await b.store.getRunOwner(run.id)).toBe(b.runtime.ownerId)
    const events = await collect(b.runtime.runEvents(run.id))
    expectDense(events)
    expect(events.filter((event) => event.type === 'run.resumed')).toHaveLength(1)
    expect(events.filter((event) => event.type === 'run.completed')).toHaveLength(1)
    // a's deltas after the takeover were refused by the fence: none follows run.resumed.
    const resumedAt = events.findIndex((event) => event.type === 'run.resumed')
    expect(events.slice(resumedAt).filter((event) => event.type === 'message.delta' && String((event.data as { content: string }).content).startsWith('a'))).toEqual([])
    await expect(
      a.store.commit({
        ownerId: a.runtime.ownerId as string,
        events: [{ runId: run.id, sessionId: run.sessionId, seq: (events.at(-1) as RunEvent).seq + 1, type: 'message.delta', data: { content: 'late', channel: 'text' }, createdAt: new Date().toISOString() }],
      }),
    ).rejects.toMatchObject({ code: 'storage.conflict' })
  })

  it('listen again after the server cut the listening connection, and readers catch up', async () => {
    const schema = `replicas_${++schemas}`
    const a = await replica(schema, 'a', [reply('first '), reply(Array.from({ length: 30 }, (_, index) => `v${index} `).join(''), { delayMs: 5 })])
    const b = await replica(schema, 'b', [reply('never')], { execute: false })
    await waitFor(() => a.store.listening && b.store.listening)
    const admin = new pg.Client({ connectionString: adminUrl })
    await admin.connect()
    try {
      const cut = await admin.query(
        "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE datname = $1 AND application_name = 'hearth-runtime listen'",
        [new URL(url).pathname.slice(1)],
      )
      // Each replica listens on one connection of its own.
      expect(cut.rows).toHaveLength(2)
    } finally {
      await admin.end()
    }
    await a.runtime.waitForRun((await a.runtime.createRun({ input: 'one' })).id)
    const run = await a.runtime.createRun({ input: 'two' })
    const followed = await collect(b.runtime.runEvents(run.id))
    expectDense(followed)
    expect(followed).toEqual(await collect(a.runtime.runEvents(run.id)))
    await waitFor(() => b.store.listening)
  })
})
