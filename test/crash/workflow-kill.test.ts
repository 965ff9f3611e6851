import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime } from '../../src/index.js'
import { runKillTest } from '../../src/testing/index.js'
import { executionsFile } from './workflow-scenario.js'

const directory = mkdtempSync(join(tmpdir(), 'hearth-workflow-kill-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

// About 42 events are committed before both workflows wait for input: the last points kill while one or both wait.
const points = [3, 6, 10, 16, 24, 32, 38, 42]

describe('a kill with workflows under way', () => {
  it('completes each workflow after the restart, and no step that committed runs again', async () => {
    const reports = await runKillTest({
      scenario: fileURLToPath(new URL('./workflow-scenario.ts', import.meta.url)),
      storePath: (point) => join(directory, `flow-${point}.db`),
      killAfterEvents: points,
    })
    for (const report of reports) {
      const at = `kill after ${report.killAfterEvents} events`
      expect(report.violations, at).toEqual([])
      const path = join(directory, `flow-${report.killAfterEvents}.db`)
      const lines = existsSync(executionsFile(path)) ? readFileSync(executionsFile(path), 'utf8').split('\n').filter((line) => line !== '') : []
      const observer = await Runtime.open({ store: sqliteStore({ path }), execute: false })
      try {
        const runs = (await observer.listRuns({ limit: 100 })).filter((run) => run.parentRunId === null)
        expect(runs.length, at).toBeGreaterThanOrEqual(1)
        for (const run of runs) {
          expect(run, at).toMatchObject({ status: 'completed', content: `${run.input}: notes on ${run.input} w1 w2 w3 w4 w5 w6 (approved)` })
          expect(await observer.listRuns({ parentRunId: run.id }), at).toHaveLength(1)
          const steps = (await observer.readEvents(run.id)).filter((event) => event.type === 'workflow.step_completed')
          for (const name of ['a', 'b', 'c']) {
            const committedBy = (steps.find((event) => event.data.name === name)?.data.output as { pid: number }).pid
            const ranBy = lines.filter((line) => line.startsWith(`${run.input}/${name} `)).map((line) => Number(line.split(' ')[1]))
            // Once by the process whose result the log kept; before that, at most once by a process that died in it.
            expect(ranBy.filter((pid) => pid === committedBy), `${at}: ${run.input}/${name}`).toHaveLength(1)
            // A step the victim committed never runs in the survivor (this process).
            if (committedBy !== process.pid) expect(ranBy, `${at}: ${run.input}/${name}`).not.toContain(process.pid)
            expect(ranBy.length, `${at}: ${run.input}/${name}`).toBeLessThanOrEqual(2)
          }
        }
      } finally {
        await observer.close()
      }
    }
    expect(reports.filter((report) => !report.finishedFirst).length).toBeGreaterThanOrEqual(points.length - 2)
    console.log(reports.map((report) => `${report.killAfterEvents}:${report.eventsSeen}${report.finishedFirst ? '(finished)' : ''}`).join(' '))
  }, 180_000)
})
