/**
 * The kill harness scenario for hearth's own crash tests: a SQLite file (or,
 * through {@link crashScenario}, another store), a
 * slow scripted model, tools that take time (one idempotent, one not), and a
 * tool that needs confirmation, across three sessions. The non-idempotent
 * `charge` writes each execution to `<store path>.charges` (one order per
 * line) before it answers, so the test can check that no order was charged
 * twice across a crash.
 */
import { appendFileSync } from 'node:fs'
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { tool, type Runtime, type Store } from '../../src/index.js'
import { callTools, reply, scriptedModel, type KillScenario, type ScriptedTurn } from '../../src/testing/index.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The file where `charge` records the orders it charged. */
export const chargesFile = (storePath: string): string => `${storePath}.charges`

const charge = (storePath: string) =>
  tool({
    name: 'charge',
    input: z.object({ order: z.string() }),
    execute: async ({ order }) => {
      // The side effect first, the answer later: a kill in between is the case that must not charge again.
      appendFileSync(chargesFile(storePath), `${order}\n`)
      await sleep(15)
      return `charged ${order}`
    },
  })
const lookup = tool({ name: 'lookup', idempotent: true, input: z.object({ order: z.string() }), execute: async ({ order }) => (await sleep(10), { order, total: 42 }) })
const email = tool({ name: 'send_email', needsConfirmation: true, input: z.object({ to: z.string() }), execute: ({ to }) => ({ sent: true, to }) })

function script(request: { messages: { role: string; content: string }[] }, index: number): ScriptedTurn {
  const input = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? ''
  if (input === 'chat') return index === 0 ? reply('one two three four five six seven eight nine ten', { delayMs: 8 }) : reply('?')
  if (input === 'tools') {
    if (index === 0) return [{ delay: 5 }, ...callTools({ name: 'lookup', arguments: { order: 'A' } }, { name: 'charge', arguments: { order: 'A' } })]
    if (index === 1) return [{ delay: 5 }, ...callTools({ name: 'charge', arguments: { order: 'B' } })]
    return reply('all charged now', { delayMs: 6 })
  }
  if (input === 'email') return index === 0 ? callTools({ name: 'send_email', arguments: { to: 'a@example.com' } }) : reply('email done', { delayMs: 5 })
  return reply('unknown')
}

/**
 * The scenario on the store `storeAt` makes for a store path, with `leaseMs`.
 * `charge` writes its orders next to the store path.
 */
export function crashScenario(storeAt: (storePath: string) => Store, leaseMs: number): KillScenario {
  return {
    runtimeOptions: ({ storePath }) => ({
      store: storeAt(storePath),
      leaseMs,
      providers: { scripted: scriptedModel(script) },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [{ key: 'crash', version: 1, instructions: 'Survive.', tools: [charge(storePath), lookup, email] }],
    }),
    async drive(runtime: Runtime) {
      for (const input of ['chat', 'tools', 'email']) {
        const session = await runtime.createSession()
        await runtime.createRun(session.id, { input })
        if (input === 'chat') await runtime.createRun(session.id, { input: 'chat' })
      }
    },
  }
}

// On SQLite, a lease far past the harness's settle time: every run still ends only because the survivor
// sees the victim's pid is gone on this host and recovers at once, never by waiting the lease out.
export default crashScenario((path) => sqliteStore({ path }), 600_000)
