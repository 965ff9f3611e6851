/**
 * What must hold after a kill of test/crash/child-scenario.ts, on any
 * store: each lead run ended with exactly one child for its call, both
 * completed, the lead with the child's whole answer, and one
 * `subrun.started` and one `subrun.completed` in the lead's log.
 */
import { expect } from 'vitest'
import type { Runtime } from '../../src/index.js'
import { answerOf, tasks } from './child-scenario.js'

/** Checks the runs `observer` sees; `at` names the kill point in failures. */
export async function expectOneChildEach(observer: Runtime, at: string): Promise<void> {
  const runs = await observer.listRuns({ limit: 100 })
  const leads = runs.filter((run) => run.parentRunId === null)
  for (const lead of leads) {
    const children = runs.filter((run) => run.parentRunId === lead.id)
    expect(children, `${at}: children of ${lead.id}`).toHaveLength(1)
    const task = lead.input
    expect(tasks).toContain(task)
    expect(children[0], at).toMatchObject({ status: 'completed', content: answerOf(task), parentToolCallId: 'call_r' })
    expect(lead, at).toMatchObject({ status: 'completed', content: `Lead: ${answerOf(task)}` })
    const events = await observer.readEvents(lead.id)
    expect(events.filter((event) => event.type === 'subrun.started').map((event) => event.data), at).toEqual([expect.objectContaining({ child_run_id: children[0]?.id })])
    expect(events.filter((event) => event.type === 'subrun.completed'), at).toHaveLength(1)
  }
}
