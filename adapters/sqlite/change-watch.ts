/**
 * Noticing what other connections wrote. `PRAGMA data_version` changes when
 * another connection (in this process or another) commits to the file, and
 * never for the connection's own commits, so one cheap read per interval
 * tells whether to look again. The timer runs only while someone watches and
 * the store is open, and is unref'd, so it never keeps a process alive.
 */
import type { Logger } from '../../src/logger.js'

interface Entry {
  listener: () => void
}

/** Polls one connection's `data_version` and calls the listeners when it moves. */
export class ChangeWatch {
  readonly #intervalMs: number
  // Entries rather than the functions, so that one function watching twice is two watchers.
  readonly #entries = new Set<Entry>()
  #read: (() => number) | undefined
  #version = 0
  #timer: ReturnType<typeof setInterval> | undefined

  /** `intervalMs`: how often to read `data_version`. */
  readonly #logger: Logger

  constructor(intervalMs: number, logger: Logger) {
    this.#intervalMs = intervalMs
    this.#logger = logger
  }

  /** True while the timer runs. */
  get polling(): boolean {
    return this.#timer !== undefined
  }

  /** Calls `listener` after each interval in which another connection committed. Returns the function that stops it. */
  add(listener: () => void): () => void {
    const entry: Entry = { listener }
    this.#entries.add(entry)
    this.#start()
    return () => {
      if (this.#entries.delete(entry) && this.#entries.size === 0) this.#stop()
    }
  }

  /** Reads `data_version` through `read` from now on (the store opened). */
  attach(read: () => number): void {
    this.#read = read
    this.#start()
  }

  /** Stops reading (the store closed); the listeners stay for a reopen. */
  detach(): void {
    this.#read = undefined
    this.#stop()
  }

  #start(): void {
    if (this.#timer !== undefined || this.#read === undefined || this.#entries.size === 0) return
    try {
      this.#version = this.#read()
    } catch {
      // No baseline: the first tick that can read calls the listeners, once too often rather than never.
      this.#version = -1
    }
    this.#timer = setInterval(this.#tick, this.#intervalMs)
    this.#timer.unref?.()
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  readonly #tick = (): void => {
    const read = this.#read
    if (read === undefined) return
    let version: number
    try {
      version = read()
    } catch {
      // A locked or busy file now is no reason to stop watching: the next tick reads again.
      return
    }
    if (version === this.#version) return
    this.#version = version
    for (const entry of [...this.#entries]) {
      try {
        entry.listener()
      } catch (error) {
        this.#logger.error('hearth-runtime/sqlite: a store watcher threw', error)
      }
    }
  }
}
