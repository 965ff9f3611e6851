/**
 * Ownership: which process executes which runs when several share a store.
 * An executing runtime registers as an owner (id, pid, host, heartbeat) and
 * claims runs atomically through the store; an owner is dead when it is on
 * this host and its process is gone or a zombie, or when its heartbeat is
 * older than the lease.
 * A store without ownership methods is taken to be used by one runtime alone.
 */
import { hostname } from 'node:os'
import { createId } from './ids.js'
import { runStatuses, type Owner, type Store } from './store.js'
import type { Logger } from './logger.js'

const host = hostname()

/**
 * The state letter of a `/proc/<pid>/stat` line (`R`, `S`, `Z`, ...), or
 * undefined when the line has none. The command name in parentheses may hold
 * spaces and parentheses itself, so the state is the first field after the
 * last `)`. Not part of the public API.
 */
export function statState(stat: string): string | undefined {
  return /^ (\S)/.exec(stat.slice(stat.lastIndexOf(')') + 1))?.[1]
}

/**
 * The state of process `pid` as Linux's `/proc/<pid>/stat` gives it (`Z` for
 * a zombie), or undefined where there is no such file (not Linux, no /proc,
 * or no such process). Not part of the public API.
 */
export function processState(pid: number): string | undefined {
  // Loaded when first needed, not imported: the root import loads no I/O module.
  const fs = process.getBuiltinModule?.('node:fs')
  if (fs === undefined) return undefined
  try {
    return statState(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'))
  } catch {
    return undefined
  }
}

/**
 * False when process `pid` is gone, or has exited and waits for its parent
 * to reap it (Linux state `Z`, zombie, or `X`, being reaped): such a process
 * executes nothing, though `process.kill(pid, 0)` finds it. Without /proc,
 * only `kill` decides.
 */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const state = processState(pid)
  return state !== 'Z' && state !== 'X'
}

/** True when `owner` can no longer be executing runs: on this host with its process gone or a zombie (unless `pidChecks` is false), or past its lease. */
export function isOwnerDead(owner: Owner, leaseMs: number, nowMs: number, pidChecks = true): boolean {
  if (pidChecks && owner.host === host && !pidAlive(owner.pid)) return true
  return nowMs - Date.parse(owner.heartbeatAt) > leaseMs
}

/** This runtime's place among the processes executing runs on a store. */
export class Ownership {
  /** This runtime's owner id, when the store keeps owners. */
  readonly ownerId: string | undefined
  readonly #store: Store
  readonly #leaseMs: number
  #timer: ReturnType<typeof setInterval> | undefined
  #registered = false
  /** True when the last claim saw another live owner: runs of a session may then start in two processes. */
  othersAlive = false

  readonly #logger: Logger

  constructor(store: Store, leaseMs: number, logger: Logger) {
    this.#store = store
    this.#logger = logger
    this.#leaseMs = leaseMs
    this.ownerId = store.registerOwner === undefined || store.claimRuns === undefined ? undefined : createId('own')
  }

  /** Registers this runtime as an owner. */
  async register(): Promise<void> {
    if (this.ownerId === undefined) return
    const now = new Date().toISOString()
    await this.#store.registerOwner?.({ id: this.ownerId, pid: process.pid, host, startedAt: now, heartbeatAt: now })
    this.#registered = true
  }

  /**
   * The ids of the runs this runtime should take over, oldest first: those of
   * dead owners and of none, and with `includeOwn` its own too (the caller
   * skips the ones it still holds). Without ownership in the store: every unfinished run.
   */
  async claim(options: { includeOwn?: boolean } = {}): Promise<string[]> {
    const store = this.#store
    if (this.ownerId === undefined || store.claimRuns === undefined) {
      const runs = await store.listRuns({ statuses: runStatuses.slice(0, 3), limit: Number.MAX_SAFE_INTEGER, order: 'asc' })
      return runs.map((run) => run.id)
    }
    const now = Date.now()
    const owners = (await store.listOwners?.()) ?? []
    const others = owners.filter((owner) => owner.id !== this.ownerId)
    const dead = others.filter((owner) => isOwnerDead(owner, this.#leaseMs, now, store.pidChecks !== false)).map((owner) => owner.id)
    this.othersAlive = dead.length < others.length
    const claimed = await store.claimRuns(this.ownerId, dead)
    if (options.includeOwn !== true) return claimed
    // Runs this runtime owns but dropped (its commit failed, e.g. the file was busy) are taken up again.
    const unfinished = await store.listRuns({ statuses: runStatuses.slice(0, 3), limit: Number.MAX_SAFE_INTEGER, order: 'asc' })
    for (const run of unfinished) {
      if (!claimed.includes(run.id) && (await store.getRunOwner?.(run.id)) === this.ownerId) claimed.push(run.id)
    }
    return claimed.sort()
  }

  /** Beats every third of the lease and calls `onBeat` after each beat. */
  startHeartbeat(onBeat: () => void): void {
    if (this.ownerId === undefined) return
    const ownerId = this.ownerId
    this.#timer = setInterval(() => {
      this.#store
        .heartbeat?.(ownerId, new Date().toISOString())
        .then(async (alive) => {
          // Declared dead by another process (a long stall): register again; runs it claimed stay with it.
          if (alive === false) await this.register()
          onBeat()
        })
        .catch((error: unknown) => this.#logger.error('hearth: heartbeat failed', error))
    }, Math.max(50, Math.floor(this.#leaseMs / 3)))
    this.#timer.unref?.()
  }

  /** Stops beating and removes the owner, leaving its unfinished runs to the next runtime. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    if (this.ownerId !== undefined && this.#registered) await this.#store.removeOwner?.(this.ownerId)
    this.#registered = false
  }
}
