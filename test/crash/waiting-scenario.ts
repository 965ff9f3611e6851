/**
 * The victim starts one run whose tool needs a confirmation and dies while
 * it waits (after `eventsThroughWaiting`). The lease is far longer than any
 * test: a runtime that answers the run soon after the kill does so because
 * it saw that the victim's process is dead (gone, or a zombie), never because
 * the lease ran out. The model's last answer names the runtime's role.
 */
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { tool, type Runtime } from '../../src/index.js'
import { callTools, reply, scriptedModel, type KillScenario } from '../../src/testing/index.js'

/** The events the victim commits up to and including the wait. */
export const eventsThroughWaiting = ['run.started', 'message.completed', 'tool.call', 'run.waiting_for_input'] as const

const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'confirmed' })

const scenario: KillScenario = {
  runtimeOptions: ({ storePath, role }) => ({
    store: sqliteStore({ path: storePath }),
    leaseMs: 600_000,
    model: scriptedModel([callTools({ name: 'confirm', arguments: {}, id: 'w1' }), reply(`finished by the ${role}`)]),
    agents: [{ key: 'desk', version: 1, tools: [confirm] }],
  }),
  async drive(runtime: Runtime) {
    await runtime.createRun({ input: 'confirm it' })
  },
}
export default scenario
