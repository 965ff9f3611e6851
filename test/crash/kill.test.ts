import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Runtime } from '../../src/index.js'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { runKillTest } from '../../src/testing/index.js'
import { eventsThroughApproval, wiresFile } from './approved-scenario.js'
import { eventsThroughFirstRetry } from './backoff-scenario.js'
import { chargesFile } from './scenario.js'

const directory = mkdtempSync(join(tmpdir(), 'hearth-kill-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

// The scenario's victim commits 45 events, then waits for an answer that never comes: a point past
// that would only wait out the harness's 30 s give-up. The full run (`npm run test:crash`) kills at
// 24 points spread over all 45; npm test at a few.
const victimEvents = 45
const full = process.env.HEARTH_CRASH_FULL === '1'
const points = full ? Array.from({ length: 24 }, (_, index) => Math.round(1 + (index * (victimEvents - 1)) / 23)) : [2, 9, 17, 30, victimEvents]

describe('the kill harness on SQLite', () => {
  it(`loses nothing and leaves every run resumable after SIGKILL at ${points.length} points`, async () => {
    const started = performance.now()
    const reports = await runKillTest({
      scenario: fileURLToPath(new URL('./scenario.ts', import.meta.url)),
      storePath: (point) => join(directory, `kill-${point}.db`),
      killAfterEvents: points,
    })
    const perPointMs = (performance.now() - started) / points.length
    for (const report of reports) {
      expect(report.violations, `kill after ${report.killAfterEvents} events`).toEqual([])
      // A kill before drive() created every run leaves fewer runs; each one that exists must end well.
      expect(report.runs).toBeGreaterThanOrEqual(1)
      // A non-idempotent tool never runs twice across a crash: each order is charged at most once.
      const path = chargesFile(join(directory, `kill-${report.killAfterEvents}.db`))
      const charged = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '') : []
      expect(charged, `charges after a kill at ${report.killAfterEvents} events`).toEqual([...new Set(charged)])
    }
    // Most points must really have killed the victim mid-way.
    expect(reports.filter((report) => !report.finishedFirst).length).toBeGreaterThanOrEqual(Math.ceil(points.length * 0.6))
    console.log(
      `${Math.round(perPointMs)} ms a point;`,
      reports.map((report) => `${report.killAfterEvents}:${report.eventsSeen}${report.finishedFirst ? '(finished)' : ''}`).join(' '),
    )
  }, 180_000)
})

describe('a kill after an approval, while the approved tool runs', () => {
  it('gives the approved, non-idempotent call tool.interrupted and never runs it again', async () => {
    const storePath = join(directory, 'approved.db')
    const [report] = await runKillTest({
      scenario: fileURLToPath(new URL('./approved-scenario.ts', import.meta.url)),
      storePath: () => storePath,
      killAfterEvents: [eventsThroughApproval.length],
    })
    expect(report?.violations).toEqual([])
    expect(report?.finishedFirst).toBe(false)
    const observer = await Runtime.open({ store: sqliteStore({ path: storePath }), execute: false })
    try {
      const [run] = await observer.listRuns()
      const events = await observer.readEvents(run?.id as string)
      expect(events.slice(0, eventsThroughApproval.length).map((event) => event.type)).toEqual([...eventsThroughApproval])
      expect(events.find((event) => event.type === 'run.input_received')?.data).toMatchObject({ approved: true })
      const results = events.filter((event) => event.type === 'tool.result')
      expect(results.map((event) => event.data)).toEqual([expect.objectContaining({ is_error: true, error_code: 'tool.interrupted' })])
      expect(run?.status).toBe('completed')
    } finally {
      await observer.close()
    }
    // The victim may or may not have begun the transfer before it died; the survivor never does.
    const wires = existsSync(wiresFile(storePath)) ? readFileSync(wiresFile(storePath), 'utf8').split('\n').filter((line) => line !== '') : []
    expect(wires.length).toBeLessThanOrEqual(1)
  }, 60_000)
})

describe('a kill while a failed model turn waits to be tried again', () => {
  it('resumes the turn, counting attempts on from the last model.retry, and keeps only the attempt that succeeded', async () => {
    const storePath = join(directory, 'backoff.db')
    const [report] = await runKillTest({
      scenario: fileURLToPath(new URL('./backoff-scenario.ts', import.meta.url)),
      storePath: () => storePath,
      killAfterEvents: [eventsThroughFirstRetry.length],
    })
    expect(report?.violations).toEqual([])
    expect(report?.finishedFirst).toBe(false)
    const observer = await Runtime.open({ store: sqliteStore({ path: storePath }), execute: false })
    try {
      const [run] = await observer.listRuns()
      expect(run).toMatchObject({ status: 'completed', content: 'done' })
      const events = await observer.readEvents(run?.id as string)
      expect(events.slice(0, 3).map((event) => event.type)).toEqual([...eventsThroughFirstRetry])
      expect(events.filter((event) => event.type === 'model.retry').map((event) => event.data)).toMatchObject([
        { attempt: 1, delay_ms: 5000 },
        { attempt: 2, delay_ms: 10 },
      ])
      expect(events.filter((event) => event.type === 'message.delta').map((event) => (event.data as { content: string }).content)).toEqual(['attempt 1 ', 'attempt 2 ', 'done'])
      expect(run?.messages.filter((message) => message.role === 'assistant').map((message) => message.content)).toEqual(['done'])
    } finally {
      await observer.close()
    }
  })
})
