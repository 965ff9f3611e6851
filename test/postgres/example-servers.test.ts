/**
 * Two example servers on one PostgreSQL database (`HEARTH_DATABASE_URL`),
 * one started as `npm start` starts it (a separate process, through dist/)
 * and one in this process: one service. Create, list, stream, input, cancel
 * and the Agno view work on either server for a run the other executes.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { configFromEnvironment, startServer, type RunningServer } from '../../examples/support/start-server.js'
import { apiClient, readEvents, seqsOf, range, startRun, waitForRun } from '../http/support.js'
import { postgresReachable, testDatabase } from './pg-server.js'

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
const reachable = await postgresReachable()
const url = reachable ? await testDatabase('servers') : ''

describe.skipIf(!reachable)('two example servers on one HEARTH_DATABASE_URL', () => {
  it('are one service: either one lists, streams, answers and cancels the runs the other executes, and reports the same db_id', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/server.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', HEARTH_DATABASE_URL: url, HEARTH_API_KEY: '', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', HEARTH_EXECUTE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
    let other: RunningServer | undefined
    try {
      const deadline = Date.now() + 15_000
      while (!output.includes('hearth is serving ')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`The server did not start:\n${output}`)
        await new Promise((resolveWait) => setTimeout(resolveWait, 50))
      }
      expect(output).toMatch(/store\s+PostgreSQL postgres:\/\//)
      const firstUrl = /hearth is serving (\S+)/.exec(output)?.[1] as string
      other = await startServer({ ...configFromEnvironment({ HEARTH_DATABASE_URL: url }), port: 0 })
      const first = apiClient(firstUrl)
      const second = apiClient(other.url)

      // A run the child executes, streamed from the other server as it goes, and whole from the child.
      const streamed = await startRun(first, '/slow 40 5')
      const [followed, whole] = await Promise.all([readEvents(other.url, streamed.runId), readEvents(firstUrl, streamed.runId)])
      expect(seqsOf(followed)).toEqual(range(1, whole.length))
      expect(followed).toEqual(whole)
      expect(whole.at(-1)).toMatchObject({ type: 'run.completed' })

      // Listed on both; the Agno view on the other server, under the db_id both report.
      const dbId = /db_id (\S+)\)/.exec(output)?.[1] as string
      expect(other.runtime.store.id).toBe(dbId)
      expect((await second('GET', `/v1/threads/${streamed.threadId}/runs`)).body.map((run: { run_id: string }) => run.run_id)).toEqual([streamed.runId])
      const agno = await second('GET', `/sessions/${streamed.threadId}/runs?db_id=${dbId}`)
      expect(agno.status).toBe(200)
      expect(agno.body.map((run: { run_id: string }) => run.run_id)).toEqual([streamed.runId])

      // An answer and a cancel through the server that does not execute the run.
      const email = JSON.stringify({ to: 'a@example.com', subject: 'Hi', body: 'Hello' })
      const asking = await startRun(first, `/tool send_email ${email}`)
      await waitForRun(second, asking.runId, (found) => found.status === 'waiting_for_input')
      expect(await second('POST', `/v1/runs/${asking.runId}/input`, { content: 'yes' })).toMatchObject({ status: 200, body: { ok: true } })
      expect((await waitForRun(first, asking.runId, (found) => found.status === 'completed')).content).toContain('send_email returned')

      const slow = await startRun(first, '/slow 200 50')
      await waitForRun(second, slow.runId, (found) => found.status === 'running')
      expect(await second('POST', `/v1/runs/${slow.runId}:cancel`)).toMatchObject({ status: 200, body: { ok: true } })
      expect((await first('GET', `/v1/runs/${slow.runId}`)).body.status).toBe('cancelled')

      // And the other way round: a run the in-process server executes, answered through the child.
      const back = await startRun(second, `/tool send_email ${email}`)
      await waitForRun(first, back.runId, (found) => found.status === 'waiting_for_input')
      expect(await first('POST', `/v1/runs/${back.runId}/input`, { content: 'no' })).toMatchObject({ status: 200 })
      expect((await waitForRun(second, back.runId, (found) => found.status === 'completed')).status).toBe('completed')
    } finally {
      await other?.close()
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  })
})
