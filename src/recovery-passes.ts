/**
 * When a runtime looks for runs to take over and requests to apply: at once
 * when a call needs it (awaited), or soon after a heartbeat or a change in
 * the store (coalesced: one pass at a time, and one more if asked meanwhile).
 */
import type { Logger } from './logger.js'

/** The "soon" passes of one runtime around its pass function. */
export class RecoveryPasses {
  readonly #pass: () => Promise<void>
  readonly #isClosed: () => boolean
  readonly #logger: Logger
  #running: Promise<void> | undefined
  #again = false

  constructor(pass: () => Promise<void>, isClosed: () => boolean, logger: Logger) {
    this.#pass = pass
    this.#isClosed = isClosed
    this.#logger = logger
  }


  /** A pass soon, never two at once; a failure is logged. */
  soon(): void {
    if (this.#isClosed()) return
    if (this.#running !== undefined) {
      this.#again = true
      return
    }
    this.#running = this.#pass()
      .catch((error: unknown) => this.#logger.error('hearth: recovery failed', error))
      .finally(() => {
        this.#running = undefined
        if (this.#again) {
          this.#again = false
          this.soon()
        }
      })
  }

  /** Resolves when the "soon" pass under way (if any) has ended. */
  async settled(): Promise<void> {
    await this.#running
  }
}
