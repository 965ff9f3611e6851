/**
 * The background checkpointer: copies the WAL back into the database file
 * from a worker thread, on a connection of its own, so that the thread that
 * commits never pays for it.
 *
 * SQLite's own automatic checkpoint runs inside the commit that takes the WAL
 * past 1000 pages: that commit copies every page back and fsyncs twice while
 * the event loop waits. Measured with the runtime on SQLite on a 2-core VM
 * (bench/sqlite-runtime.ts), moving it to a worker made 200 concurrent tool
 * runs ~9-13% faster and sequential chat runs ~12-25% faster. The worker
 * runs a PASSIVE checkpoint (it never blocks a writer or a reader) once the
 * store has committed since the last one and {@link checkpointIntervalMs} has
 * passed, so the commits of the last ~200 ms are the only ones not yet in the
 * database file (and synced there). The
 * committing connection keeps an automatic checkpoint at
 * {@link fallbackCheckpointPages}, so the WAL stays bounded even if the
 * worker falls behind or dies.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** The committing connection's `wal_autocheckpoint` while a worker checkpoints: a backstop, ~40 MB of WAL. */
export const fallbackCheckpointPages = 10_000

/** How often (ms), at most, the worker checkpoints while the store commits. */
export const checkpointIntervalMs = 200

// CommonJS, evaluated in the worker: it opens its own connection and checkpoints on request.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const database = new Database(workerData.path, { fileMustExist: true })
parentPort.on('message', (message) => {
  if (message === 'close') {
    database.close()
    parentPort.close()
    return
  }
  try {
    database.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // Busy (another checkpoint runs) or the file is going away: the next request tries again.
  }
  parentPort.postMessage('done')
})
`

/** Asks a worker thread to checkpoint one database file. */
export class Checkpointer {
  readonly #path: string
  readonly #onFailure: () => void
  #worker: Worker | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  /** True while the worker checkpoints. */
  #busy = false
  /** True when the store committed since the last checkpoint was asked for. */
  #dirty = false
  #failed = false
  #lastMs: number

  /** `onFailure` is called once if the worker cannot start or dies: the caller checkpoints inline again. */
  constructor(path: string, onFailure: () => void) {
    this.#path = path
    this.#onFailure = onFailure
    // The first checkpoint waits a whole interval, so a store that lives shorter never starts a thread.
    this.#lastMs = performance.now()
  }

  /**
   * Called after each committed transaction: asks for a checkpoint now when
   * the last one is an interval old, else at the end of the interval, so the
   * last commits of a burst are checkpointed (and, being in the database
   * file, synced) too. Cheap when one is already due.
   */
  committed(): void {
    this.#dirty = true
    this.#schedule()
  }

  /** Stops the worker, after its connection is closed; resolves once the thread has exited. */
  async close(): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    this.#failed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    if (worker === undefined) return
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    worker.postMessage('close')
    const timeout = setTimeout(() => void worker.terminate(), 1000)
    await exited
    clearTimeout(timeout)
  }

  #schedule(): void {
    if (this.#failed || this.#busy || this.#timer !== undefined || !this.#dirty) return
    const wait = checkpointIntervalMs - (performance.now() - this.#lastMs)
    if (wait <= 0) this.#request()
    else {
      this.#timer = setTimeout(this.#onTimer, wait)
      this.#timer.unref?.()
    }
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined
    this.#schedule()
  }

  #request(): void {
    this.#dirty = false
    this.#lastMs = performance.now()
    this.#busy = true
    ;(this.#worker ??= this.#start())?.postMessage('checkpoint')
  }

  #start(): Worker | undefined {
    try {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3')
      const worker = new Worker(workerSource, { eval: true, workerData: { driver, path: this.#path } })
      worker.unref()
      worker.on('message', () => {
        this.#busy = false
        this.#schedule()
      })
      worker.on('error', () => this.#fail())
      worker.on('exit', () => {
        if (this.#worker === worker) this.#fail()
      })
      return worker
    } catch {
      this.#fail()
      return undefined
    }
  }

  #fail(): void {
    if (this.#failed) return
    this.#failed = true
    this.#worker = undefined
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#onFailure()
  }
}
