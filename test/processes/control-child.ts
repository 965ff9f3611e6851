/**
 * A runtime in another process for the cross-process tests: it opens
 * `controlOptions(argv[2], argv[3])` (an observer when argv[4] is
 * `observer`), prints `READY <owner id>`, then answers one JSON command per
 * stdin line with one JSON line: `{ id, ok: true, value }` or
 * `{ id, ok: false, error: { code, message } }`. It closes its runtime when
 * stdin ends.
 */
import { createInterface } from 'node:readline'
import { Runtime } from '../../src/index.js'
import { controlOptions } from './control-scenario.js'

const [path, name, role] = process.argv.slice(2)
if (path === undefined || name === undefined) {
  process.stderr.write('usage: control-child <store path> <name> [observer]\n')
  process.exit(2)
}
const runtime = await Runtime.open(controlOptions(path, name, { execute: role !== 'observer' }))
process.stdout.write(`READY ${runtime.ownerId ?? '-'}\n`)

type Command =
  | { id: number; op: 'run'; sessionId: string; agent: string; input: string; multitask?: 'enqueue' | 'reject' | 'interrupt' }
  | { id: number; op: 'input'; runId: string; content: string }
  | { id: number; op: 'cancel'; runId: string; reason: string }
  | { id: number; op: 'wait'; runId: string }

async function perform(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'run': {
      const run = await runtime.createRun(command.sessionId, { input: command.input, personaId: command.agent, multitask: command.multitask })
      return run.id
    }
    case 'input':
      return runtime.submitInput(command.runId, { content: command.content })
    case 'cancel':
      return runtime.cancelRun(command.runId, { reason: command.reason })
    case 'wait':
      return (await runtime.waitForRun(command.runId)).status
  }
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const command = JSON.parse(line) as Command
  perform(command).then(
    (value) => process.stdout.write(`${JSON.stringify({ id: command.id, ok: true, value: value ?? null })}\n`),
    (error: { code?: string; message?: string }) => process.stdout.write(`${JSON.stringify({ id: command.id, ok: false, error: { code: error.code, message: error.message } })}\n`),
  )
})
lines.on('close', () => {
  void runtime.close().then(() => process.exit(0))
})
