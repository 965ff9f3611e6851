import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime } from '../../src/index.js'
import { runKillTest } from '../../src/testing/index.js'
import { expectOneChildEach } from './child-checks.js'

const directory = mkdtempSync(join(tmpdir(), 'hearth-child-kill-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

// Each lead commits about 6 events around its child's 15: kills before the children exist, right around
// their inserts and `subrun.started`, mid-stream in them, and around their ends.
const points = [3, 5, 7, 12, 20, 30, 38, 44]

describe('a kill with child runs under way', () => {
  it('resumes parent and child from their logs, with exactly one child per call, both completed', async () => {
    const reports = await runKillTest({
      scenario: fileURLToPath(new URL('./child-scenario.ts', import.meta.url)),
      storePath: (point) => join(directory, `child-${point}.db`),
      killAfterEvents: points,
    })
    for (const report of reports) {
      const at = `kill after ${report.killAfterEvents} events`
      expect(report.violations, at).toEqual([])
      const observer = await Runtime.open({ store: sqliteStore({ path: join(directory, `child-${report.killAfterEvents}.db`) }), execute: false })
      try {
        await expectOneChildEach(observer, at)
      } finally {
        await observer.close()
      }
    }
    expect(reports.filter((report) => !report.finishedFirst).length).toBeGreaterThanOrEqual(points.length - 2)
    console.log(reports.map((report) => `${report.killAfterEvents}:${report.eventsSeen}${report.finishedFirst ? '(finished)' : ''}`).join(' '))
  }, 180_000)
})
