import { describe, expect, it } from 'vitest'
import { MemoryStore, StorageError, type Commit, type RunEvent } from '../../src/index.js'
import { EventHub } from '../../src/event-stream.js'
import { isoTime, maxHeldEvents, RunLog } from '../../src/run-log.js'
import { createRunState } from '../../src/run-state.js'
import { makeRun, makeSession } from 'hearth-runtime/testing/contracts'

/** The memory store, recording every commit it is asked for, and failing the next ones while `failing` is set. */
class RecordingStore extends MemoryStore {
  readonly commits: Commit[] = []
  failing: Error | undefined
  override async commit(commit: Commit): Promise<void> {
    this.commits.push(commit)
    if (this.failing !== undefined) throw this.failing
    return super.commit(commit)
  }
}

async function setUp(options: { inserted?: boolean } = {}) {
  const store = new RecordingStore()
  await store.open()
  const session = makeSession()
  await store.insertSession(session)
  const run = makeRun(session)
  if (options.inserted !== false) await store.commit({ insertRun: run })
  store.commits.length = 0
  const hub = new EventHub()
  const published: RunEvent[] = []
  hub.subscribe(run.id, (event) => published.push(event))
  const log = new RunLog(store, hub, run, createRunState([]))
  return { store, session, run, hub, published, log }
}

const delta = (content: string) => ({ content, channel: 'text' as const })

describe('RunLog', () => {
  it('hands out dense seqs, applies each event to the state at once, and commits one tick’s appends in one commit', async () => {
    const { store, log, published } = await setUp()
    const first = log.append('message.delta', delta('a'), 1_000)
    log.append('message.delta', delta('b'), 1_001)
    expect(first).toMatchObject({ seq: 1, type: 'message.delta', createdAt: new Date(1_000).toISOString() })
    expect(log.seq).toBe(2)
    expect(log.backlog).toBe(2)
    expect(log.state.partialText).toBe('ab')
    expect(published).toEqual([])
    await log.committed()
    expect(store.commits).toHaveLength(1)
    expect(store.commits[0]?.events?.map((event) => event.seq)).toEqual([1, 2])
    expect(published.map((event) => event.seq)).toEqual([1, 2])
    expect(log.backlog).toBe(0)
  })

  it('publishes nothing before the store has the commit', async () => {
    const { store, log, published } = await setUp()
    let seenAtCommit = -1
    const commit = store.commit.bind(store)
    store.commit = async (value) => {
      seenAtCommit = published.length
      return commit(value)
    }
    log.append('message.delta', delta('a'))
    await log.flush()
    expect(seenAtCommit).toBe(0)
    expect(published).toHaveLength(1)
  })

  it('merges patches, and carries the owner, the patch, the events and the session state in one commit', async () => {
    const { store, log, run, session } = await setUp()
    log.ownerId = 'own_x'
    log.patch({ status: 'running' })
    log.patch({ startedAt: '2026-01-01T00:00:00.000Z' })
    log.append('message.delta', delta('a'))
    log.setSessionState({ step: 1 }, '2026-01-01T00:00:01.000Z')
    await store.registerOwner({ id: 'own_x', pid: 1, host: 'h', startedAt: '', heartbeatAt: '' })
    await store.claimRuns('own_x', [])
    await log.flush()
    expect(store.commits).toEqual([
      {
        ownerId: 'own_x',
        run: { id: run.id, patch: { status: 'running', startedAt: '2026-01-01T00:00:00.000Z' } },
        events: [expect.objectContaining({ seq: 1 })],
        sessionState: { sessionId: session.id, state: { step: 1 }, updatedAt: '2026-01-01T00:00:01.000Z' },
      },
    ])
    // Nothing left: a second flush commits nothing.
    await log.flush()
    expect(store.commits).toHaveLength(1)
    expect((await store.getSession(session.id))?.state).toEqual({ step: 1 })
  })

  it('inserts the run with its first events, and is stored only once that commit lands', async () => {
    const { store, log, run } = await setUp({ inserted: false })
    log.insert({ ...run }, 'own_y')
    expect(log.stored).toBe(false)
    log.append('run.started', { persona_id: 'a@1', route_id: 'default', model: 'm', model_provider: 'p' })
    const committed = log.committed()
    expect(log.stored).toBe(false)
    await committed
    expect(log.stored).toBe(true)
    expect(store.commits[0]).toMatchObject({ insertRun: { id: run.id }, ownerId: 'own_y', events: [expect.objectContaining({ seq: 1 })] })
  })

  it('drops appends once sealed by a terminal event, but keeps the terminal one', async () => {
    const { log, published } = await setUp()
    log.append('run.cancelled', { reason: 'stop', content: '' })
    expect(log.sealed).toBe(true)
    expect(log.append('tool.result', { tool_call_id: 'c', name: 't', output: 'late', is_error: false })).toBeUndefined()
    expect(log.seq).toBe(1)
    await log.flush()
    expect(published.map((event) => event.type)).toEqual(['run.cancelled'])
  })

  it('breaks on a failed commit: the error rejects every waiter, later appends throw it, patches are ignored', async () => {
    const { store, log, published } = await setUp()
    const failure = new StorageError('storage.busy', 'locked')
    store.failing = failure
    log.append('message.delta', delta('a'))
    const waiting = [log.committed(), log.committed()]
    await expect(log.flush()).rejects.toBe(failure)
    await expect(Promise.all(waiting)).rejects.toBe(failure)
    expect(log.broken).toBe(failure)
    expect(log.backlog).toBe(0)
    expect(published).toEqual([])
    expect(() => log.append('message.delta', delta('b'))).toThrow(failure)
    log.patch({ status: 'failed' })
    await expect(log.committed()).rejects.toBe(failure)
    await expect(log.flush()).rejects.toBe(failure)
    store.failing = undefined
    expect(store.commits).toHaveLength(1)
  })

  it.each([
    ['the session state', (log: RunLog) => log.setSessionState({ cart: ['a'] }, new Date(5).toISOString()), 'sessionState'],
    ['taken thread messages', (log: RunLog) => log.answerMessages(['msg_1']), 'answerMessages'],
    ['a control settlement', (log: RunLog) => log.settleControl({ id: 'ctl_1', status: 'applied', settledAt: new Date(5).toISOString() }), 'settleControls'],
    ['a context summary', (log: RunLog) => log.setContextSummary({ summary: 's', coversThroughRunId: 'run_a', runId: 'run_b', createdAt: new Date(5).toISOString() }), 'contextSummary'],
    ['a patch', (log: RunLog) => log.patch({ content: 'x' }), 'run'],
  ] as const)('commits %s pending alone on flush', async (_what, pend, field) => {
    const { store, log } = await setUp()
    // The commit may fail in the store (no such message or control): what matters is that it was sent.
    store.commit = async (commit) => void store.commits.push(commit)
    pend(log)
    await log.flush()
    expect(store.commits).toHaveLength(1)
    expect(store.commits[0]?.[field]).toBeDefined()
    expect(store.commits[0]?.events).toBeUndefined()
  })

  it('resolves committed() at once when nothing is pending, and waits for the flush otherwise', async () => {
    const { log, published } = await setUp()
    await log.committed()
    log.append('message.delta', delta('a'))
    await log.committed()
    expect(published).toHaveLength(1)
  })

  it('holds the committed events of a run it writes from seq 1, up to its bound, and lets them go on release', async () => {
    const { log } = await setUp()
    expect(log.held).toEqual([])
    for (let index = 0; index < maxHeldEvents; index++) log.append('message.delta', delta('x'))
    await log.flush()
    expect(log.held).toHaveLength(maxHeldEvents)
    log.append('message.delta', delta('one too many'))
    await log.flush()
    expect(log.held).toBeUndefined()
    const { log: other } = await setUp()
    other.append('message.delta', delta('a'))
    await other.flush()
    other.release()
    expect(other.held).toBeUndefined()
  })

  it('holds nothing for a run it takes up in the middle (a recovered run)', async () => {
    const { store, hub, run } = await setUp()
    const resumed = new RunLog(store, hub, { ...run, lastSeq: 4 }, createRunState([]))
    expect(resumed.held).toBeUndefined()
    expect(resumed.seq).toBe(4)
  })
})

describe('isoTime', () => {
  it('is the ISO time of the millisecond, made once per millisecond', () => {
    const first = isoTime(1_700_000_000_000)
    expect(first).toBe('2023-11-14T22:13:20.000Z')
    expect(isoTime(1_700_000_000_000)).toBe(first)
    expect(isoTime(1_700_000_000_001)).toBe('2023-11-14T22:13:20.001Z')
  })
})
