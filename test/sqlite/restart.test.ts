import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, tool, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

let temp: TempDirectory
beforeEach(async () => {
  temp = await tempDirectory()
})
afterEach(async () => {
  await temp.cleanup()
})

const sent: string[] = []
const sendEmail = tool({ name: 'send_email', needsConfirmation: true, input: z.object({ to: z.string() }), execute: ({ to }) => (sent.push(to), { sent: true, to }) })

function options(path: string) {
  return {
    store: sqliteStore({ path }),
    providers: { scripted: scriptedModel([callTools({ name: 'send_email', arguments: { to: 'z@example.com' }, id: 'm1' }), reply('Sent it.')]) },
    routes: { default: { provider: 'scripted', model: 'm', pricing: { inputPerMillion: 1, outputPerMillion: 1 } } },
    agents: [{ key: 'mailer', version: 1, tools: [sendEmail] }],
  }
}

describe('a restart on a SQLite file', () => {
  it('keeps a run waiting for input: a new runtime answers it and the run completes', async () => {
    const path = temp.file('agents.db')
    const first = await Runtime.open(options(path))
    const session = await first.createSession({ title: 'mail' })
    const run = await first.createRun(session.id, { input: 'email z' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    await first.close()

    const second = await Runtime.open(options(path))
    expect(await second.getRun(run.id)).toMatchObject({ status: 'waiting_for_input', pendingInput: [expect.objectContaining({ tool_call_id: 'm1' })] })
    expect((await second.getSession(session.id)).title).toBe('mail')
    await second.submitInput(run.id, { content: 'yes' })
    const done = await second.waitForRun(run.id)
    expect(done).toMatchObject({ status: 'completed', content: 'Sent it.' })
    expect(sent).toContain('z@example.com')
    const events: RunEvent[] = []
    for await (const event of second.runEvents(run.id)) events.push(event)
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    expect(events.map((event) => event.type)).toEqual([
      'run.started',
      'message.completed',
      'tool.call',
      'run.waiting_for_input',
      'run.input_received',
      'tool.result',
      'message.delta',
      'message.delta',
      'message.completed',
      'run.completed',
    ])
    await second.close()
  })
})
