import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { runKillTest } from '../../src/testing/index.js'

const directory = mkdtempSync(join(tmpdir(), 'hearth-kill-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

// The full run (`npm run test:crash`) kills at every third event; npm test at a few spread points.
const full = process.env.HEARTH_CRASH_FULL === '1'
const points = full ? Array.from({ length: 24 }, (_, index) => 1 + index * 3) : [2, 9, 17, 30, 45]

describe('the kill harness on SQLite', () => {
  it(`loses nothing and leaves every run resumable after SIGKILL at ${points.length} points`, async () => {
    const reports = await runKillTest({
      scenario: fileURLToPath(new URL('./scenario.ts', import.meta.url)),
      storePath: (point) => join(directory, `kill-${point}.db`),
      killAfterEvents: points,
    })
    for (const report of reports) {
      expect(report.violations, `kill after ${report.killAfterEvents} events`).toEqual([])
      // A kill before drive() created every run leaves fewer runs; each one that exists must end well.
      expect(report.runs).toBeGreaterThanOrEqual(1)
    }
    // Most points must really have killed the victim mid-way.
    expect(reports.filter((report) => !report.finishedFirst).length).toBeGreaterThanOrEqual(Math.ceil(points.length * 0.6))
    console.log(reports.map((report) => `${report.killAfterEvents}:${report.eventsSeen}${report.finishedFirst ? '(finished)' : ''}`).join(' '))
  }, 180_000)
})
