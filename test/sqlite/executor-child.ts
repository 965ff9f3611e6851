/**
 * The other process of test/sqlite/two-processes.test.ts: an executing
 * runtime on the SQLite file given as argv[2] with a slow scripted model. It
 * starts one run and prints `RUN <run id> <owner id>`, prints `DONE` when the
 * run has ended, and closes its runtime when its stdin ends.
 */
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime } from '../../src/index.js'
import { reply, scriptedModel } from '../../src/testing/index.js'

const path = process.argv[2]
if (path === undefined) {
  process.stderr.write('usage: executor-child <store path>\n')
  process.exit(2)
}
const answer = Array.from({ length: 40 }, (_, index) => `w${index} `).join('')
const runtime = await Runtime.open({
  store: sqliteStore({ path }),
  providers: { scripted: scriptedModel([reply(answer, { delayMs: 15 })]) },
  routes: { default: { provider: 'scripted', model: 'slow' } },
  agents: [{ key: 'elsewhere', version: 1, instructions: 'Take your time.' }],
})
const session = await runtime.createSession()
const run = await runtime.createRun(session.id, { input: 'tell me slowly' })
process.stdout.write(`RUN ${run.id} ${runtime.ownerId ?? ''}\n`)
const done = await run.result()
process.stdout.write(`DONE ${done.status}\n`)
process.stdin.resume()
process.stdin.on('end', () => {
  void runtime.close().then(() => process.exit(0))
})
