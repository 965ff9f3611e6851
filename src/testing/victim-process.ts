/**
 * The victim process of the kill harness, spawned directly or through a
 * parent that does not reap it: killed, it then stays a zombie until
 * released, as under a supervisor that reaps late or a shell as a
 * container's PID 1. `process.kill(pid, 0)` still finds a zombie, so only
 * its process state tells that it is dead. Not part of the public API.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { constants } from 'node:os'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { processState } from '../ownership.js'

/** A committed event, as the victim showed it. */
export interface ShownEvent {
  runId: string
  seq: number
  type: string
}

/** How to start a victim. */
export interface VictimOptions {
  /** Path of the scenario module. */
  scenario: string
  storePath: string
  /** Node flags for the victim (tsx for a TypeScript scenario). */
  execArgv: readonly string[]
  /** Spawn it through a parent that does not reap it (Linux: /bin/sh and /proc), so that once dead it stays a zombie until `release()`. */
  zombie: boolean
  /** SIGKILL it right after it has shown this many events. */
  killAfterEvents?: number
  /** SIGKILL it after this long, and report that the harness gave up. @default 30000 */
  giveUpMs?: number
}

/** How a victim ended. */
export interface VictimEnd {
  /** True when it was killed because the harness gave up waiting. */
  gaveUp: boolean
  /** Its exit code, when it exited. */
  code: number | null
  /** The signal that ended it (SIGKILL when the harness killed it). */
  signal: NodeJS.Signals | null
  stderr: string
}

/** The victim's entry beside this file: kill-child.ts from source, kill-child.js from dist/. */
export const killChildEntry = fileURLToPath(new URL(`./kill-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url))

// The shell starts the victim, prints its pid, lets go of the pipes (so they end when the victim dies)
// and blocks reading stdin without reaping the victim; `wait` reaps it once stdin ends.
const unreapingParent = '"$@" & echo "PID $!"; exec >/dev/null 2>&1; read line; wait "$!"'

const signalOf = (status: number): NodeJS.Signals | null =>
  (Object.entries(constants.signals).find(([, number]) => number === status - 128)?.[0] as NodeJS.Signals | undefined) ?? null

/** A running victim: the events it shows, a kill, how it ended. */
export class Victim {
  /** Every event it has shown, in order. */
  readonly shown: ShownEvent[] = []
  /** Resolves once it is dead (in zombie mode: once it is a zombie, checked in /proc). */
  readonly ended: Promise<VictimEnd>
  readonly #child: ChildProcess
  readonly #zombie: boolean
  readonly #exited: Promise<number | null>
  readonly #listeners = new Set<() => void>()
  #pid: number | undefined
  #killPending = false
  #killed = false
  #released = false
  #gaveUp = false
  #stderr = ''

  constructor(options: VictimOptions) {
    const args = [...options.execArgv, killChildEntry, options.scenario, options.storePath]
    this.#zombie = options.zombie
    this.#child = options.zombie
      ? spawn('/bin/sh', ['-c', unreapingParent, 'hearth-victim-parent', process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    if (!options.zombie) this.#pid = this.#child.pid
    this.#exited = new Promise((resolve) => this.#child.on('exit', (code) => resolve(code)))
    const giveUp = setTimeout(() => {
      this.#gaveUp = true
      this.kill()
    }, options.giveUpMs ?? 30_000)
    this.#read(options.killAfterEvents)
    this.ended = this.#end().finally(() => clearTimeout(giveUp))
  }

  /** The victim's pid; undefined until the unreaping parent has printed it. */
  get pid(): number | undefined {
    return this.#pid
  }

  /** SIGKILLs the victim (at once, or as soon as its pid is known). */
  kill(): void {
    // Once reaped, its pid may belong to another process.
    if (this.#released) return
    this.#killed = true
    if (!this.#zombie) {
      this.#child.kill('SIGKILL')
      return
    }
    if (this.#pid === undefined) {
      this.#killPending = true
      return
    }
    try {
      process.kill(this.#pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }

  /** The first shown event that matches, waiting at most `timeoutMs`; rejects if the victim ends first. */
  async waitFor(matches: (event: ShownEvent) => boolean, timeoutMs = 30_000): Promise<ShownEvent> {
    const deadline = Date.now() + timeoutMs
    let done = false
    void this.ended.finally(() => (done = true)).catch(() => {})
    for (;;) {
      const found = this.shown.find(matches)
      if (found !== undefined) return found
      if (done || Date.now() > deadline) throw new Error(`The victim ${done ? 'ended' : `did not show it within ${timeoutMs} ms`} before the event awaited; stderr: ${this.#stderr}`)
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#listeners.delete(wake)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(wake, 100)
        this.#listeners.add(wake)
      })
    }
  }

  /** Lets the unreaping parent reap the victim, and waits for both to be gone. */
  async release(): Promise<void> {
    this.#released = true
    if (this.#zombie && this.#child.stdin !== null && !this.#child.stdin.destroyed) this.#child.stdin.end()
    await this.#exited
  }

  #read(killAfterEvents: number | undefined): void {
    const child = this.#child
    let buffered = ''
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk
      for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline)
        buffered = buffered.slice(newline + 1)
        if (this.#zombie && this.#pid === undefined && line.startsWith('PID ')) {
          this.#pid = Number(line.slice(4))
          if (this.#killPending) this.kill()
        }
        if (!line.startsWith('E ')) continue
        const [, runId, seq, type] = line.split(' ')
        this.shown.push({ runId: runId as string, seq: Number(seq), type: type as string })
        if (this.shown.length === killAfterEvents) this.kill()
      }
      for (const wake of [...this.#listeners]) wake()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString()
    })
  }

  async #end(): Promise<VictimEnd> {
    const child = this.#child
    if (!this.#zombie) {
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.on('error', reject)
        child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]))
      })
      return { gaveUp: this.#gaveUp, code, signal, stderr: this.#stderr }
    }
    // The pipes end when the victim dies: the parent let go of its copies.
    await new Promise<void>((resolve, reject) => {
      let open = 2
      const closed = (): void => {
        if (--open === 0) resolve()
      }
      child.on('error', reject)
      child.stdout?.on('close', closed)
      child.stderr?.on('close', closed)
    })
    const pid = this.#pid
    if (pid === undefined) {
      await this.release()
      throw new Error(`The victim's parent did not print its pid; stderr: ${this.#stderr}`)
    }
    if (!this.#killed) {
      // It ended by itself: let the parent reap it, and read how it ended from the parent's `wait`.
      await this.release()
      const status = (await this.#exited) ?? 1
      return status > 128 ? { gaveUp: false, code: null, signal: signalOf(status), stderr: this.#stderr } : { gaveUp: false, code: status, signal: null, stderr: this.#stderr }
    }
    // The pipes close a moment before the process becomes a zombie.
    for (const deadline = Date.now() + 10_000; processState(pid) !== 'Z'; ) {
      if (Date.now() > deadline) {
        await this.release()
        throw new Error(`The killed victim ${pid} is in state ${String(processState(pid))}, not a zombie (Z)`)
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    return { gaveUp: this.#gaveUp, code: null, signal: 'SIGKILL', stderr: this.#stderr }
  }
}
