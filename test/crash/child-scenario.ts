/**
 * A kill with child runs under way: two runs of `lead@1` each hand a task
 * to `researcher@1` (an agent tool), whose answer streams slowly, so a kill
 * lands before a child exists, between its insert and the parent's
 * `subrun.started`, mid-stream in the child, or between the child's end
 * and the parent's `subrun.completed`. After the restart each parent must
 * end with exactly one child, both completed, the parent with the child's
 * whole answer.
 */
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { agentTool, type ModelRequest, type Runtime, type Store } from '../../src/index.js'
import { callTools, reply, scriptedModel, type KillScenario, type ScriptedTurn } from '../../src/testing/index.js'

/** What each researcher child answers to `task`. */
export const answerOf = (task: string): string => `Notes on ${task}: ${Array.from({ length: 12 }, (_, index) => `w${index}`).join(' ')}`

/** The tasks the two lead runs hand on. */
export const tasks = ['moons', 'tides'] as const

function script(request: ModelRequest, index: number): ScriptedTurn {
  const system = request.messages.find((message) => message.role === 'system')?.content
  const user = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? ''
  if (system === 'Lead.') {
    if (index === 0) return [{ delay: 5 }, ...callTools({ name: 'researcher', arguments: { input: user }, id: 'call_r' })]
    const tool = [...request.messages].reverse().find((message) => message.role === 'tool')?.content ?? ''
    return reply(`Lead: ${tool}`, { delayMs: 3 })
  }
  return reply(answerOf(user), { delayMs: 6 })
}

/** The scenario on the store `storeAt` makes for a store path, with `leaseMs`. */
export function childScenario(storeAt: (storePath: string) => Store, leaseMs: number): KillScenario {
  return {
    runtimeOptions: ({ storePath }) => ({
      store: storeAt(storePath),
      leaseMs,
      providers: { scripted: scriptedModel(script) },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [
        { key: 'researcher', version: 1, instructions: 'Research.' },
        { key: 'lead', version: 1, instructions: 'Lead.', tools: [agentTool('researcher@1')] },
      ],
      defaultAgent: 'lead@1',
    }),
    async drive(runtime: Runtime) {
      for (const task of tasks) await runtime.createRun({ input: task })
    },
  }
}

// On SQLite, recovered because the victim's pid is gone, never by waiting for this lease.
export default childScenario((path) => sqliteStore({ path }), 600_000)
