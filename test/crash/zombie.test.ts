import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Runtime } from '../../src/index.js'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { processState } from '../../src/ownership.js'
import { runKillTest } from '../../src/testing/index.js'
import { victimExecArgv } from '../../src/testing/kill-harness.js'
import { Victim } from '../../src/testing/victim-process.js'
import { apiClient, serveRuntime } from '../http/support.js'
import waitingScenario, { eventsThroughWaiting } from './waiting-scenario.js'

const directory = mkdtempSync(join(tmpdir(), 'hearth-zombie-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

const scenarioPath = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url))
const waitingPath = scenarioPath('waiting-scenario.ts')

describe('the kill harness with a victim left a zombie', () => {
  it('answers at once a run the victim left waiting: the survivor sees the zombie is dead, with a lease of 10 minutes', async () => {
    const storePath = join(directory, 'waiting.db')
    const [report] = await runKillTest({ scenario: waitingPath, storePath: () => storePath, killAfterEvents: [eventsThroughWaiting.length], zombie: true })
    expect(report).toMatchObject({ finishedFirst: false, eventsSeen: eventsThroughWaiting.length, runs: 1, violations: [] })
    const observer = await Runtime.open({ store: sqliteStore({ path: storePath }), execute: false })
    try {
      const [run] = await observer.listRuns()
      expect(run).toMatchObject({ status: 'completed', content: 'finished by the survivor' })
      const types = (await observer.readEvents(run?.id as string)).map((event) => event.type)
      expect(types.slice(0, eventsThroughWaiting.length)).toEqual([...eventsThroughWaiting])
      expect(types).toContain('run.input_received')
    } finally {
      await observer.close()
    }
  }, 60_000)

  it('loses nothing after a kill at points of the main scenario, the victim a zombie throughout', async () => {
    const reports = await runKillTest({
      scenario: scenarioPath('scenario.ts'),
      storePath: (point) => join(directory, `main-${point}.db`),
      killAfterEvents: [17, 45],
      zombie: true,
    })
    for (const report of reports) expect(report.violations, `kill after ${report.killAfterEvents} events`).toEqual([])
    expect(reports.filter((report) => !report.finishedFirst).length).toBeGreaterThanOrEqual(1)
  }, 120_000)

  it('refuses a zombie option that is not a boolean', async () => {
    await expect(runKillTest({ scenario: waitingPath, storePath: () => join(directory, 'never.db'), killAfterEvents: [1], zombie: 'yes' as never })).rejects.toThrow(
      new TypeError('Expected `zombie` to be a boolean, got `yes`'),
    )
  })

  it('refuses zombie: true off Linux, where no /proc tells a zombie from a live process', async () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform') as PropertyDescriptor
    // vitest runs each file in a process of its own, so no other file sees this.
    Object.defineProperty(process, 'platform', { value: 'darwin' })
    try {
      await expect(runKillTest({ scenario: waitingPath, storePath: () => join(directory, 'never.db'), killAfterEvents: [1], zombie: true })).rejects.toThrow(
        new TypeError('`zombie` needs Linux (/proc), not darwin'),
      )
    } finally {
      Object.defineProperty(process, 'platform', platform)
    }
  })
})

/**
 * Starts the waiting scenario's victim through a parent that does not reap it, and opens a survivor on
 * the same file while the victim lives (so its own open claims nothing). Resolves once the run waits.
 */
async function victimAndSurvivor(name: string) {
  const storePath = join(directory, name)
  const victim = new Victim({ scenario: waitingPath, storePath, execArgv: victimExecArgv(waitingPath), zombie: true, giveUpMs: 60_000 })
  const waiting = await victim.waitFor((event) => event.type === 'run.waiting_for_input')
  const survivor = await Runtime.open(await waitingScenario.runtimeOptions({ storePath, role: 'survivor' }))
  const victimOwner = await survivor.store.getRunOwner?.(waiting.runId)
  /** Kills the victim and waits until it is a zombie: `kill(pid, 0)` still finds it. */
  const kill = async (): Promise<void> => {
    victim.kill()
    expect((await victim.ended).signal).toBe('SIGKILL')
    expect(processState(victim.pid as number)).toBe('Z')
    expect(() => process.kill(victim.pid as number, 0)).not.toThrow()
  }
  const cleanup = async (): Promise<void> => {
    victim.kill()
    await survivor.close()
    await victim.release()
  }
  return { runId: waiting.runId, victimOwner, survivor, kill, cleanup }
}

describe('a runtime already open when the owner of a waiting run dies', () => {
  it('over HTTP: 200 at once once the owner is a zombie, and the run completes', async () => {
    const { runId, victimOwner, survivor, kill, cleanup } = await victimAndSurvivor('http.db')
    const server = await serveRuntime(survivor)
    try {
      const api = apiClient(server.url)
      expect(victimOwner).toMatch(/^own_/)
      await kill()
      // The survivor's lease is 10 minutes and it beats every 200 s: only the zombie's state explains this.
      const answered = await api('POST', `/v1/runs/${runId}/input`, { content: 'yes' })
      expect(answered).toMatchObject({ status: 200, body: { ok: true } })
      expect(await survivor.waitForRun(runId)).toMatchObject({ status: 'completed', content: 'finished by the survivor' })
      expect(await survivor.store.getRunOwner?.(runId)).toBe(survivor.ownerId)
      expect((await api('GET', `/v1/runs/${runId}`)).body.status).toBe('completed')
    } finally {
      await server.close()
      await cleanup()
    }
  }, 60_000)

  it('through the TypeScript API: cancels at once once the owner is a zombie', async () => {
    const { runId, victimOwner, survivor, kill, cleanup } = await victimAndSurvivor('api.db')
    try {
      expect(victimOwner).toMatch(/^own_/)
      await kill()
      await survivor.cancelRun(runId, { reason: 'the desk closed' })
      expect(await survivor.getRun(runId)).toMatchObject({ status: 'cancelled' })
      const events = await survivor.readEvents(runId)
      expect(events.at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'the desk closed' } })
      expect(events.find((event) => event.type === 'tool.result')?.data).toMatchObject({ tool_call_id: 'w1', error_code: 'tool.cancelled' })
    } finally {
      await cleanup()
    }
  }, 60_000)
})
