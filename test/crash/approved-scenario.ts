/**
 * A kill point the main scenario never reaches: the victim approves a call of
 * a non-idempotent tool itself, and dies after `run.input_received` is
 * committed, while the tool runs. `wire` records each execution in
 * `<store path>.wires` before it answers. After recovery the approved call
 * counts as started: it gets `tool.interrupted` and never runs again.
 */
import { appendFileSync } from 'node:fs'
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { tool, type Runtime } from '../../src/index.js'
import { callTools, reply, scriptedModel, type KillScenario } from '../../src/testing/index.js'

/** The file where `wire` records the transfers it made. */
export const wiresFile = (storePath: string): string => `${storePath}.wires`

/** The events the victim commits up to and including the approval. */
export const eventsThroughApproval = ['run.started', 'message.completed', 'tool.call', 'run.waiting_for_input', 'run.input_received'] as const

const scenario: KillScenario = {
  runtimeOptions: ({ storePath }) => ({
    store: sqliteStore({ path: storePath }),
    // Recovered only because the victim's pid is gone, never by waiting for this lease.
    leaseMs: 600_000,
    model: scriptedModel([callTools({ name: 'wire', arguments: { amount: 100 } }), reply('wired')]),
    agents: [
      {
        key: 'bank',
        version: 1,
        tools: [
          tool({
            name: 'wire',
            needsConfirmation: true,
            input: z.object({ amount: z.number() }),
            execute: async ({ amount }) => {
              appendFileSync(wiresFile(storePath), `${amount}\n`)
              // Long enough that the kill lands before the result is committed.
              await new Promise((resolve) => setTimeout(resolve, 5_000))
              return `wired ${amount}`
            },
          }),
        ],
      },
    ],
  }),
  async drive(runtime: Runtime) {
    const run = await runtime.createRun({ input: 'wire 100' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    await runtime.submitInput(run.id, { approved: true })
  },
}
export default scenario
