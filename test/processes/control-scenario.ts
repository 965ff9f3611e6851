/**
 * The runtime of every process in the cross-process tests: on one SQLite
 * file, with two agents. `desk` asks for a confirmation, then answers
 * `<name> confirmed`; `slow` streams `<name> done` over ~300 ms. The name
 * tells which process executed a run.
 */
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { silentLogger, tool, type RuntimeOptions } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'

const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'confirmed' })

/** The options of process `name` on the file at `path`. */
export function controlOptions(path: string, name: string, extra: Partial<RuntimeOptions> = {}): RuntimeOptions {
  return {
    store: sqliteStore({ path, logger: silentLogger }),
    logger: silentLogger,
    providers: {
      scripted: scriptedModel((request, index) => {
        const desk = request.messages[0]?.content === 'desk'
        if (!desk) return reply(`${name} done`, { deltas: 3, delayMs: 100 })
        return index === 0 ? callTools({ name: 'confirm', arguments: {}, id: 'c1' }) : reply(`${name} confirmed`)
      }),
    },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [
      { key: 'desk', version: 1, instructions: 'desk', tools: [confirm] },
      { key: 'slow', version: 1, instructions: 'slow' },
    ],
    ...extra,
  }
}
