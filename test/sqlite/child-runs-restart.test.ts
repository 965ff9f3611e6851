/**
 * A parent waiting with its child for input, across a close and a reopen
 * on one SQLite file: the new runtime follows the child again, mirrors
 * nothing twice, and the answer sent to the parent completes both.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { agentTool, Runtime, tool, type ModelRequest, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn } from '../../src/testing/index.js'

const directory = mkdtempSync(join(tmpdir(), 'hearth-child-restart-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

const sent: string[] = []
const sendEmail = tool({ name: 'send_email', input: z.object({ to: z.string() }), needsConfirmation: true, execute: ({ to }) => (sent.push(to), `sent to ${to}`) })

function script(request: ModelRequest): ScriptedTurn {
  const system = request.messages.find((message) => message.role === 'system')?.content
  const last = request.messages.at(-1)
  if (system === 'Mail.') return last?.role === 'user' ? callTools({ name: 'send_email', arguments: { to: 'b@x.io' }, id: 'call_m' }) : reply(`mailer: ${last?.content ?? ''}`)
  return last?.role === 'user' ? callTools({ name: 'mailer', arguments: { input: 'mail b' }, id: 'call_p' }) : reply(`lead: ${last?.content ?? ''}`)
}

const open = (path: string) =>
  Runtime.open({
    store: sqliteStore({ path }),
    providers: { scripted: scriptedModel(script) },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [
      { key: 'mailer', version: 1, instructions: 'Mail.', tools: [sendEmail] },
      { key: 'lead', version: 1, instructions: 'Lead.', tools: [agentTool('mailer@1')] },
    ],
    defaultAgent: 'lead@1',
  })

async function until(runtime: Runtime, runId: string, status: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if ((await runtime.getRun(runId)).status === status) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`run ${runId} never became ${status}`)
}

describe('a parent waiting with its child, across a restart', () => {
  it('follows the child again, mirrors nothing twice, and the answer to the parent completes both', async () => {
    const path = join(directory, 'restart.db')
    const first = await open(path)
    const run = await first.createRun({ input: 'go' })
    await until(first, run.id, 'waiting_for_input')
    const [child] = await first.listRuns({ parentRunId: run.id })
    await first.close()

    const second = await open(path)
    try {
      // Still waiting with its child's request, after the recovery pass and a moment for the watcher.
      await new Promise((resolve) => setTimeout(resolve, 100))
      const waiting = await second.getRun(run.id)
      expect(waiting).toMatchObject({ status: 'waiting_for_input', pendingInput: [expect.objectContaining({ run_id: child?.id, tool_call_id: 'call_m' })] })
      await second.submitInput(run.id, { content: 'yes' })
      const done = await second.waitForRun(run.id)
      expect(done).toMatchObject({ status: 'completed', content: 'lead: mailer: sent to b@x.io' })
      expect(sent).toEqual(['b@x.io'])
      const events: RunEvent[] = await second.readEvents(run.id)
      expect(events.filter((event) => event.type === 'run.waiting_for_input')).toHaveLength(1)
      expect(events.filter((event) => event.type === 'run.input_received')).toHaveLength(1)
      expect(events.filter((event) => event.type === 'subrun.started')).toHaveLength(1)
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
      expect((await second.listRuns({ parentRunId: run.id })).map((found) => found.status)).toEqual(['completed'])
    } finally {
      await second.close()
    }
  })
})
