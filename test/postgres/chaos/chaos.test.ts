/**
 * `npm run test:pg-chaos`: example servers in processes of their own on one
 * PostgreSQL database, under load, while one is SIGKILLed, one is frozen
 * with SIGSTOP past its lease, and the database server itself restarts.
 * Every run must end exactly once with a dense log, every SSE reader (which
 * fails over to another replica when its own dies) must see exactly the
 * log, and a replica that lost its runs must write nothing more to them.
 */
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { postgresReachable, testDatabase } from '../pg-server.js'
import { api, createRun, follow, startCluster, startReplica, statusCounts, stopReplica, waitUntil, type Followed, type Replica } from './replicas.js'

const reachable = await postgresReachable()
const killUrl = reachable ? await testDatabase('chaos_kill') : ''
const stopUrl = reachable ? await testDatabase('chaos_stop') : ''
const replicas: Replica[] = []
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((replica) => stopReplica(replica)))
})

const slowText = (count: number): string => Array.from({ length: count }, (_, index) => `w${index} `).join('')

interface LogRow {
  seq: number
  type: string
}

/** Every run's events (seq and type) and record, read straight from the database. */
async function snapshot(client: pg.Client): Promise<Map<string, { status: string; lastSeq: number; owner: string | null; content: string | null; events: LogRow[] }>> {
  const runs = await client.query<{ id: string; status: string; last_seq: number; owner_id: string | null; content: string | null }>(
    'SELECT r.id, r.status, r.last_seq, r.owner_id, d.content FROM hearth.runs r JOIN hearth.run_details d ON d.run_id = r.id',
  )
  const events = await client.query<{ run_id: string; seq: number; type: string }>('SELECT run_id, seq, type FROM hearth.events ORDER BY run_id, seq')
  const result = new Map<string, { status: string; lastSeq: number; owner: string | null; content: string | null; events: LogRow[] }>()
  for (const row of runs.rows) {
    result.set(row.id, { status: row.status, lastSeq: row.last_seq, owner: row.owner_id, content: row.content === null ? null : (JSON.parse(row.content) as string), events: [] })
  }
  for (const row of events.rows) result.get(row.run_id)?.events.push({ seq: row.seq, type: row.type })
  return result
}

/** Checks a run's log: dense from 1, up to last_seq, exactly one terminal event, last. */
function expectWholeLog(runId: string, run: { lastSeq: number; events: LogRow[] }): void {
  expect(run.events.map((event) => event.seq), runId).toEqual(Array.from({ length: run.lastSeq }, (_, index) => index + 1))
  const terminals = run.events.filter((event) => ['run.completed', 'run.failed', 'run.cancelled'].includes(event.type))
  expect(terminals, runId).toHaveLength(1)
  expect(run.events.at(-1), runId).toEqual(terminals[0])
}

describe.skipIf(!reachable)('replicas on one PostgreSQL database, under chaos', () => {
  it('finish 300 runs exactly once, with exact readers, answers and cancels through other replicas, while one replica is SIGKILLed', async () => {
    const url = killUrl
    for (const name of ['r0', 'r1', 'r2']) replicas.push(await startReplica(name, url))
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const slow: { runId: string; creator: number }[] = []
      const creating: Promise<void>[] = []
      for (let index = 0; index < 300; index++) {
        const creator = index % 3
        creating.push(createRun(replicas[creator] as Replica, '/slow 20 10').then(({ runId }) => void slow.push({ runId, creator })))
      }
      await Promise.all(creating)
      const email = JSON.stringify({ to: 'a@example.com', subject: 'Hi', body: 'Hello' })
      const asking = await Promise.all([1, 2, 0, 1].map(async (creator) => ({ creator, ...(await createRun(replicas[creator] as Replica, `/tool send_email ${email}`)) })))
      const cancelling = await Promise.all([1, 2].map(async (creator) => ({ creator, ...(await createRun(replicas[creator] as Replica, '/slow 400 20')) })))
      // Each run read on another replica than the one that took it, failing over when that one dies.
      const readers = new Map<string, Promise<Followed>>()
      for (const run of [...slow, ...asking, ...cancelling]) readers.set(run.runId, follow(replicas, run.creator + 1, run.runId))

      await waitUntil(async () => ((await statusCounts(client)).completed ?? 0) >= 60, '60 completed runs')
      const victim = replicas[0] as Replica
      victim.child.kill('SIGKILL')
      victim.alive = false
      await victim.exited

      // Answers and cancels go through a replica that does not own the run (the victim's runs: after the takeover).
      for (const run of asking) {
        const via = replicas[run.creator === 1 ? 2 : 1] as Replica
        await waitUntil(async () => (await api(via, 'GET', `/v1/runs/${run.runId}`)).body.status === 'waiting_for_input', `run ${run.runId} waiting`)
        const answered = await api(via, 'POST', `/v1/runs/${run.runId}/input`, { content: 'yes' })
        expect(answered, `input for ${run.runId} (made on r${run.creator}) through ${via.name}: ${JSON.stringify(answered.body)}`).toMatchObject({ status: 200 })
      }
      for (const run of cancelling) {
        const via = replicas[run.creator === 1 ? 2 : 1] as Replica
        expect((await api(via, 'POST', `/v1/runs/${run.runId}:cancel`)).status).toBe(200)
      }

      const followed = new Map<string, Followed>()
      for (const [runId, reader] of readers) followed.set(runId, await reader)
      await waitUntil(async () => {
        const counts = await statusCounts(client)
        return (counts.queued ?? 0) + (counts.running ?? 0) + (counts.waiting_for_input ?? 0) === 0
      }, 'every run to end')
      const runs = await snapshot(client)
      expect(runs.size).toBe(306)
      for (const [runId, run] of runs) {
        expectWholeLog(runId, run)
        // The reader saw exactly the log: nothing lost, nothing twice, in order.
        expect(followed.get(runId)?.events, runId).toEqual(run.events)
      }
      for (const { runId } of slow) expect(runs.get(runId)).toMatchObject({ status: 'completed', content: slowText(20) })
      for (const { runId } of asking) expect(runs.get(runId)?.content).toContain('send_email returned')
      for (const { runId } of cancelling) expect(runs.get(runId)?.status).toBe('cancelled')
      // The victim's runs were taken over and resumed from their logs.
      const resumed = [...runs.values()].filter((run) => run.events.some((event) => event.type === 'run.resumed'))
      expect(resumed.length).toBeGreaterThan(0)
      console.log(`${resumed.length} runs resumed after the SIGKILL; ${[...followed.values()].filter((reader) => reader.reconnects > 0).length} readers failed over`)
    } finally {
      await client.end()
    }
  }, 120_000)

  it('a replica frozen with SIGSTOP past its lease loses its runs to the others, and after SIGCONT writes nothing more to them', async () => {
    const url = stopUrl
    for (const name of ['r0', 'r1', 'r2']) replicas.push(await startReplica(name, url))
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const frozen = replicas[0] as Replica
      const runs = await Promise.all(Array.from({ length: 60 }, (_, index) => createRun(replicas[index % 3] as Replica, '/slow 30 20')))
      const ownerOfFrozen = (await client.query<{ id: string }>('SELECT id FROM hearth.owners WHERE pid = $1', [frozen.child.pid])).rows[0]?.id
      expect(ownerOfFrozen).toBeDefined()
      // Frozen only once it holds a run under way (it streamed a delta), so it has something to lose.
      await waitUntil(
        async () =>
          (
            await client.query(
              "SELECT 1 FROM hearth.runs r WHERE r.owner_id = $1 AND r.status = 'running' AND EXISTS (SELECT 1 FROM hearth.events e WHERE e.run_id = r.id AND e.type = 'message.delta') LIMIT 1",
              [ownerOfFrozen],
            )
          ).rowCount === 1,
        'a run of the replica to freeze under way',
      )
      frozen.child.kill('SIGSTOP')
      await waitUntil(async () => {
        const counts = await statusCounts(client)
        return (counts.queued ?? 0) + (counts.running ?? 0) + (counts.waiting_for_input ?? 0) === 0
      }, 'every run to end without the frozen replica')
      const before = await snapshot(client)
      const lost = [...before.entries()].filter(([, run]) => run.events.some((event) => event.type === 'run.resumed'))
      expect(lost.length).toBeGreaterThan(0)
      for (const [, run] of lost) expect(run.owner).not.toBe(ownerOfFrozen)
      frozen.child.kill('SIGCONT')
      // Past its lease twice over: its heartbeat finds itself removed, and every write it had under way meets the fence.
      await new Promise((resolveWait) => setTimeout(resolveWait, 2500))
      const after = await snapshot(client)
      expect(after).toEqual(before)
      for (const [runId, run] of after) {
        expectWholeLog(runId, run)
        expect(run, runId).toMatchObject({ status: 'completed', content: slowText(30) })
      }
      // It is alive and serves again.
      expect((await api(frozen, 'GET', `/v1/runs/${runs[0]?.runId}`)).body.status).toBe('completed')
    } finally {
      await client.end()
    }
  }, 120_000)

  describe('on a cluster of the test’s own', () => {
    let cluster: ReturnType<typeof startCluster> | undefined
    afterAll(() => cluster?.stop())

    it('the database server restarts mid-load: replicas reconnect, no run is lost, live readers catch up', async () => {
      cluster = startCluster(55_432)
      for (const name of ['r0', 'r1']) replicas.push(await startReplica(name, cluster.url))
      const client = new pg.Client({ connectionString: cluster.url })
      await client.connect()
      client.on('error', () => {})
      const runs = await Promise.all(Array.from({ length: 60 }, async (_, index) => ({ creator: index % 2, ...(await createRun(replicas[index % 2] as Replica, '/slow 40 20')) })))
      const readers = new Map(runs.map((run) => [run.runId, follow(replicas, run.creator + 1, run.runId)]))
      await waitUntil(async () => ((await statusCounts(client)).completed ?? 0) >= 5, 'a few completed runs')
      await client.end()
      cluster.restart()
      const after = new pg.Client({ connectionString: cluster.url })
      await after.connect()
      try {
        const followed = new Map<string, Followed>()
        for (const [runId, reader] of readers) followed.set(runId, await reader)
        await waitUntil(async () => {
          const counts = await statusCounts(after)
          return (counts.queued ?? 0) + (counts.running ?? 0) + (counts.waiting_for_input ?? 0) === 0
        }, 'every run to end after the restart')
        const logs = await snapshot(after)
        expect(logs.size).toBe(60)
        for (const [runId, run] of logs) {
          expectWholeLog(runId, run)
          expect(run, runId).toMatchObject({ status: 'completed', content: slowText(40) })
          expect(followed.get(runId)?.events, runId).toEqual(run.events)
        }
        // Both replicas listen again.
        for (const replica of replicas) expect((await api(replica, 'GET', '/v1/health')).status).toBe(200)
      } finally {
        await after.end()
      }
    }, 120_000)
  })
})
