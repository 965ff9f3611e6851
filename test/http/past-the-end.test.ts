/**
 * A stream that starts past a run's last event: of a live run it sends only
 * what comes after its start (nothing, if the run ends before) and closes
 * when the run ends; of a finished run it is a 204.
 */
import { describe, expect, it } from 'vitest'
import { openEvents, readEvents, seqsOf, sseFrames, startRun, useDemoServer, waitForRun } from './support.js'

const demo = useDemoServer({ http: { pingIntervalMs: 20 } })

/** A run waiting for a tool confirmation: live, and quiet until answered. */
async function waitingRun(): Promise<{ runId: string; lastSeq: number }> {
  const { runId } = await startRun(demo.api, '/tool send_email {"to": "a@example.com", "subject": "s", "body": "b"}')
  await waitForRun(demo.api, runId, (run) => run.status === 'waiting_for_input')
  return { runId, lastSeq: (await demo.runtime.getRun(runId)).lastSeq }
}

/** Every frame of a stream until it closes: events, and how many pings came. */
async function drain(response: Response): Promise<{ events: any[]; pings: number }> {
  const events: any[] = []
  let pings = 0
  for await (const frame of sseFrames(response)) {
    if (frame.data !== undefined) events.push(frame.data)
    else if (frame.comment === 'ping') pings++
  }
  return { events, pings }
}

describe('a stream past the end', () => {
  it('of a live run sends nothing and closes when the run ends before its start', async () => {
    const { runId, lastSeq } = await waitingRun()
    const byQuery = await openEvents(demo.url, runId, { afterSeq: lastSeq + 100 })
    const byHeader = await openEvents(demo.url, runId, { lastEventId: lastSeq + 100 })
    expect([byQuery.status, byHeader.status]).toEqual([200, 200])
    const streams = [drain(byQuery), drain(byHeader)]
    // The streams stay open (pinging) while the run is live.
    const quiet = await Promise.race([Promise.all(streams).then(() => 'closed'), new Promise((resolve) => setTimeout(resolve, 100, 'open'))])
    expect(quiet).toBe('open')
    expect((await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'yes' })).status).toBe(200)
    const results = await Promise.all(streams)
    const run = await demo.runtime.getRun(runId)
    expect(run.status).toBe('completed')
    expect(run.lastSeq).toBeLessThan(lastSeq + 100)
    for (const { events, pings } of results) {
      expect(events).toEqual([])
      expect(pings).toBeGreaterThan(0)
    }
  })

  it('of a live run sends exactly what comes after its start, then closes', async () => {
    const { runId, lastSeq } = await waitingRun()
    const stream = drain(await openEvents(demo.url, runId, { afterSeq: lastSeq + 2 }))
    await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'yes' })
    const { events } = await stream
    const all = await readEvents(demo.url, runId)
    expect(all.length).toBeGreaterThan(lastSeq + 3)
    expect(seqsOf(events)).toEqual(seqsOf(all.slice(lastSeq + 2)))
    expect(events).toEqual(all.slice(lastSeq + 2))
  })

  it('of a finished run is a 204', async () => {
    const { runId } = await startRun(demo.api, 'hello')
    const run = await waitForRun(demo.api, runId, (details) => details.status === 'completed')
    const lastSeq = (await demo.runtime.getRun(run.run_id)).lastSeq
    expect((await openEvents(demo.url, runId, { afterSeq: lastSeq + 1 })).status).toBe(204)
    expect((await openEvents(demo.url, runId, { lastEventId: lastSeq + 1000 })).status).toBe(204)
  })
})
