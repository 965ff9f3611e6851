/**
 * The kill harness on PostgreSQL: the victim runtime is SIGKILLed at five
 * points of the crash scenario; a survivor on the same database takes its
 * runs over once the lease runs out and must lose nothing, keep every seq
 * dense, leave no call without its result, end every run, and charge no
 * order twice.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { runKillTest } from '../../src/testing/index.js'
import { chargesFile } from '../crash/scenario.js'
import { expectOneChildEach } from '../crash/child-checks.js'
import { postgresStore } from '../../adapters/postgres/index.js'
import { Runtime, silentLogger } from '../../src/index.js'
import { postgresReachable, testDatabase } from './pg-server.js'

const reachable = await postgresReachable()
const url = reachable ? await testDatabase('kill') : ''
const directory = mkdtempSync(join(tmpdir(), 'hearth-pg-kill-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

const points = [2, 9, 17, 30, 45]

describe.skipIf(!reachable)('the kill harness on PostgreSQL', () => {
  it(`loses nothing and leaves every run resumable after SIGKILL at ${points.length} points`, async () => {
    process.env.HEARTH_KILL_PG_URL = url
    const reports = await runKillTest({
      scenario: fileURLToPath(new URL('./kill-scenario.ts', import.meta.url)),
      storePath: (point) => join(directory, `kill_${point}`),
      killAfterEvents: points,
    })
    for (const report of reports) {
      expect(report.violations, `kill after ${report.killAfterEvents} events`).toEqual([])
      expect(report.runs).toBeGreaterThanOrEqual(1)
      const path = chargesFile(join(directory, `kill_${report.killAfterEvents}`))
      const charged = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '') : []
      expect(charged, `charges after a kill at ${report.killAfterEvents} events`).toEqual([...new Set(charged)])
    }
    expect(reports.filter((report) => !report.finishedFirst).length).toBeGreaterThanOrEqual(3)
  }, 180_000)
})

describe.skipIf(!reachable)('a kill with child runs under way, on PostgreSQL', () => {
  it('resumes parent and child from their logs, with exactly one child per call, both completed', async () => {
    process.env.HEARTH_KILL_PG_URL = url
    const childPoints = [4, 12, 30]
    const reports = await runKillTest({
      scenario: fileURLToPath(new URL('./child-kill-scenario.ts', import.meta.url)),
      storePath: (point) => join(directory, `child_${point}`),
      killAfterEvents: childPoints,
    })
    for (const report of reports) {
      const at = `kill after ${report.killAfterEvents} events`
      expect(report.violations, at).toEqual([])
      const observer = await Runtime.open({ store: postgresStore({ connectionString: url }, { schema: `child_${report.killAfterEvents}`, logger: silentLogger }), execute: false })
      try {
        await expectOneChildEach(observer, at)
      } finally {
        await observer.close()
      }
    }
    expect(reports.filter((report) => !report.finishedFirst).length).toBeGreaterThanOrEqual(2)
  }, 180_000)
})
