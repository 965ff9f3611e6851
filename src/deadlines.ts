/**
 * Deadlines checked by one shared timer instead of a timer each: each loop
 * stretch registers here once (`stretch-watch.ts`), for the stream and tool
 * timeouts of all its turns and calls. A `setTimeout` per turn and per tool
 * call, re-armed as chunks arrive, measured 35% fewer runs per second on the
 * core bench; a registration is a Set insertion. The timer
 * ticks at a quarter of the shortest window registered (5 ms to 1 s), so a
 * deadline fires at most that late, and it stops once nothing is registered.
 */

/**
 * A deadline: once `Date.now()` reaches `at`, `expired(now)` is called; it
 * returns true when the deadline fired (it is then dropped), or false after
 * moving `at` on (activity since the last look keeps a watch alive).
 */
export interface Deadline {
  at: number
  expired(now: number): boolean
}

class Deadlines {
  readonly #entries = new Set<Deadline>()
  #timer: ReturnType<typeof setInterval> | undefined
  #tickMs = Number.POSITIVE_INFINITY
  #idleTicks = 0

  /** Watches `entry`; `windowMs` (its timeout) sets how finely the timer ticks. */
  add(entry: Deadline, windowMs: number): void {
    this.#entries.add(entry)
    const tick = Math.min(1000, Math.max(5, Math.floor(windowMs / 4)))
    if (this.#timer === undefined || tick < this.#tickMs) this.#start(tick)
  }

  /** Stops watching `entry` (its work ended in time). */
  delete(entry: Deadline): void {
    this.#entries.delete(entry)
  }

  #start(tickMs: number): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#tickMs = tickMs
    this.#idleTicks = 0
    this.#timer = setInterval(this.#tick, tickMs)
    this.#timer.unref?.()
  }

  readonly #tick = (): void => {
    if (this.#entries.size === 0) {
      // Kept a few ticks, so that runs one after another do not start and stop it each time.
      if (++this.#idleTicks > 3) {
        clearInterval(this.#timer)
        this.#timer = undefined
        this.#tickMs = Number.POSITIVE_INFINITY
      }
      return
    }
    this.#idleTicks = 0
    const now = Date.now()
    for (const entry of this.#entries) {
      if (now < entry.at || !entry.expired(now)) continue
      this.#entries.delete(entry)
    }
  }
}

/** The deadlines of this process. */
export const deadlines = new Deadlines()
