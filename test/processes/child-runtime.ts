/**
 * A runtime in a child process (test/processes/control-child.ts), driven by
 * JSON commands over its stdin.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const childEntry = fileURLToPath(new URL('./control-child.ts', import.meta.url))

/** A command's failure, as the child reported it. */
export interface ChildError {
  code: string
  message: string
}

/** A runtime in another process. */
export interface ChildRuntime {
  pid: number
  /** The child's owner id (`-` for an observer). */
  ownerId: string
  /** Sends a command; resolves with its value, rejects with `{ code, message }`. */
  send(command: Record<string, unknown>): Promise<unknown>
  /** Ends stdin and waits for the child to close its runtime and exit. */
  close(): Promise<void>
  /** SIGKILLs the child and waits until it is gone (reaped). */
  kill(): Promise<void>
  readonly process: ChildProcessWithoutNullStreams
}

/** Starts process `name` on the file at `path`; resolves once its runtime is open. */
export async function startChild(path: string, name: string, role: 'executor' | 'observer' = 'executor'): Promise<ChildRuntime> {
  const child = spawn(process.execPath, ['--import', 'tsx', childEntry, path, name, role], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>()
  let ready!: (ownerId: string) => void
  const opened = new Promise<string>((resolve) => (ready = resolve))
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('READY ')) return ready(line.slice(6))
    const reply = JSON.parse(line) as { id: number; ok: boolean; value?: unknown; error?: ChildError }
    const waiter = waiting.get(reply.id)
    waiting.delete(reply.id)
    if (reply.ok) waiter?.resolve(reply.value)
    else waiter?.reject(reply.error)
  })
  void exited.then(() => {
    for (const waiter of waiting.values()) waiter.reject(new Error(`${name} exited; stderr: ${stderr}`))
    ready('')
  })
  const ownerId = await opened
  if (ownerId === '') throw new Error(`${name} did not open; stderr: ${stderr}`)
  let next = 0
  return {
    pid: child.pid as number,
    ownerId,
    process: child,
    send(command) {
      const id = ++next
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject })
        child.stdin.write(`${JSON.stringify({ id, ...command })}\n`)
      })
    },
    async close() {
      child.stdin.end()
      await exited
    },
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
  }
}
