/**
 * The victim process of the kill harness: opens a runtime from the scenario
 * module, prints every committed event on stdout (`E <runId> <seq> <type>`),
 * drives the scenario, and waits to be killed. Not part of the public API.
 *
 * No top-level await: every file of dist/ stays loadable with require().
 */
import { pathToFileURL } from 'node:url'
import { Runtime } from '../runtime.js'
import type { KillScenario } from './kill-harness.js'

async function main(scenarioPath: string, storePath: string): Promise<void> {
  const specifier = scenarioPath.startsWith('file:') ? scenarioPath : pathToFileURL(scenarioPath).href
  const scenario = (await import(specifier)).default as KillScenario
  const runtime = await Runtime.open(await scenario.runtimeOptions({ storePath, role: 'victim' }))
  const feed = runtime.events()
  void (async () => {
    for await (const event of feed) process.stdout.write(`E ${event.runId} ${event.seq} ${event.type}\n`)
  })()
  process.stdout.write('READY\n')
  await scenario.drive(runtime)
  process.stdout.write('DRIVEN\n')
  // Stay alive until killed, or until the parent gives up on us.
  setTimeout(() => process.exit(0), 60_000)
}

const [scenarioPath, storePath] = process.argv.slice(2)
if (scenarioPath === undefined || storePath === undefined) {
  process.stderr.write('usage: kill-child <scenario module> <store path>\n')
  process.exit(2)
}
main(scenarioPath, storePath).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error && error.stack !== undefined ? error.stack : String(error)}\n`)
  process.exit(1)
})
