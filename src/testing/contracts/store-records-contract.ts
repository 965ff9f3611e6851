/**
 * The Store contract's cases for keeping records whole: text that a SQL text
 * column cannot hold as it is (`\\u0000`, lone surrogates) and JSON key
 * order, and a child run's place in its tree. Registered by
 * `runStoreContract`, inside its describe block, so every store runs them.
 */
import { expect, it } from 'vitest'
import type { RunEvent } from '../../events.js'
import type { Run, Session, Store } from '../../store.js'
import { iso, makeChildRun, makeDelta, makeMessage, makeRun, makeSession, type StoreFixture } from './store-fixtures.js'

/** Registers the record cases; `current` gives the open store (and its fixture) of the running case. */
export function recordContractCases(current: () => { store: Store; fixture: StoreFixture }): void {
  async function sessionWithRun(): Promise<{ store: Store; session: Session; run: Run }> {
    const { store } = current()
    const session = makeSession()
    await store.insertSession(session)
    const run = makeRun(session)
    await store.commit({ insertRun: run })
    return { store, session, run }
  }

  it('keeps \\u0000, lone surrogates and key order in event data and run messages, and \\u0000 in run and message text', async () => {
    const { store, session, run } = await sessionWithRun()
    // A delta may end inside a surrogate pair (the stream split an emoji), and a tool's output may carry NUL bytes.
    const split = '\u{1F525}'
    const events: RunEvent[] = [
      makeDelta(run, 1, `a${split.slice(0, 1)}`),
      makeDelta(run, 2, `${split.slice(1)}b`),
      {
        runId: run.id,
        sessionId: run.sessionId,
        seq: 3,
        type: 'tool.result',
        data: { tool_call_id: 'c1', name: 'read', output: { zeta: 'nul\u0000byte', alpha: '\udfff lone', middle: [3, 1, 2] }, is_error: false },
        createdAt: iso(3),
      },
    ]
    const patch = {
      content: 'text with \u0000 inside',
      messages: [{ role: 'tool' as const, toolCallId: 'c1', name: 'read', content: 'nul\u0000 and \ud800 lone', createdAt: iso() }],
    }
    await store.commit({ run: { id: run.id, patch }, events })
    const read = await store.readEvents(run.id, 0, 10)
    expect(read).toEqual(events)
    expect(Object.keys((read[2]?.data as { output: object }).output)).toEqual(['zeta', 'alpha', 'middle'])
    expect(await store.getRun(run.id)).toEqual({ ...run, ...patch, lastSeq: 3 })
    const message = makeMessage(session, { content: 'hello\u0000there' })
    await store.insertMessage(message)
    expect(await store.getMessage(message.id)).toEqual(message)
  })

  it('keeps a child run’s place in its tree, lists a run’s children, and refuses a second child for one tool call', async () => {
    const { store, session, run } = await sessionWithRun()
    expect(await store.getRun(run.id)).toMatchObject({ parentRunId: null, rootRunId: run.id, depth: 0, parentToolCallId: null })
    const child = makeChildRun(run, 'call_1')
    await store.commit({ insertRun: child })
    expect(await store.getRun(child.id)).toEqual(child)
    const grandchild = makeChildRun(child, 'call_2')
    await store.commit({ insertRun: grandchild })
    expect(await store.getRun(grandchild.id)).toMatchObject({ parentRunId: child.id, rootRunId: run.id, depth: 2, parentToolCallId: 'call_2' })
    // The same tool call of the same parent again (a parent resumed after a crash): refused, naming the child, writing nothing.
    const again = makeChildRun(run, 'call_1')
    await expect(store.commit({ insertRun: again, events: [makeDelta(again, 1)] })).rejects.toMatchObject({
      code: 'storage.conflict',
      details: { reason: 'child_exists', child_run_id: child.id },
    })
    expect(await store.getRun(again.id)).toBeUndefined()
    const sibling = makeChildRun(run, 'call_3')
    await store.commit({ insertRun: sibling })
    expect((await store.listRuns({ parentRunId: run.id, limit: 10 })).map((found) => found.id)).toEqual([sibling.id, child.id])
    expect((await store.listRuns({ parentRunId: run.id, limit: 10, order: 'asc', before: child.id })).map((found) => found.id)).toEqual([sibling.id])
    expect((await store.listRuns({ sessionId: session.id, limit: 10 })).map((found) => found.id)).toEqual([sibling.id, grandchild.id, child.id, run.id])
    await expect(store.commit({ run: { id: child.id, patch: { depth: 5 } as never } })).rejects.toMatchObject({ code: 'storage.failed' })
    expect((await store.getRun(child.id))?.depth).toBe(1)
  })
}
