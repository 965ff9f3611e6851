/**
 * A kill with workflows under way: two runs of `chores@1`, whose steps take
 * time and record each execution (`<step> <pid>`, one line each) next to the
 * store before they answer, and which run an agent as a child step and sleep
 * durably, then wait for a person's answer. A kill lands mid-step,
 * mid-child, during the sleep or while it waits; after the restart (whose
 * harness answers waiting runs) each workflow completes, and no step that
 * committed runs again.
 */
import { appendFileSync } from 'node:fs'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { workflow, type ModelRequest, type Runtime } from '../../src/index.js'
import { reply, scriptedModel, type KillScenario, type ScriptedTurn } from '../../src/testing/index.js'

/** The file where the steps record their executions. */
export const executionsFile = (storePath: string): string => `${storePath}.steps`

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function script(request: ModelRequest): ScriptedTurn {
  const user = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? ''
  return reply(`notes on ${user} w1 w2 w3 w4 w5 w6`, { delayMs: 5 })
}

const chores = (storePath: string) =>
  workflow({
    key: 'chores',
    version: 1,
    run: async (ctx, topic) => {
      const work = (name: string) =>
        ctx.step(name, async () => {
          appendFileSync(executionsFile(storePath), `${topic}/${name} ${process.pid}\n`)
          await sleep(15)
          return { pid: process.pid }
        })
      await ctx.parallel([() => work('a'), () => work('b')])
      const notes = await ctx.runAgent('researcher@1', topic)
      await ctx.sleep(40)
      // The survivor answers a waiting run (the harness approves); the victim, killed before or while it waits, never does.
      const answer = await ctx.waitForInput({ prompt: `Finish ${topic}?` })
      await work('c')
      return `${topic}: ${String(notes)} (${answer.approved ? 'approved' : 'denied'})`
    },
  })

const scenario: KillScenario = {
  runtimeOptions: ({ storePath }) => ({
    store: sqliteStore({ path: storePath }),
    // Recovered because the victim's pid is gone, never by waiting for this lease.
    leaseMs: 600_000,
    providers: { scripted: scriptedModel(script) },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [{ key: 'researcher', version: 1, instructions: 'Research.' }],
    workflows: [chores(storePath)],
  }),
  async drive(runtime: Runtime) {
    for (const topic of ['moons', 'tides']) await runtime.createRun({ input: topic, personaId: 'chores' })
  },
}

export default scenario
