/**
 * Ownership in the in-memory Store: the registered owners, and the owner of
 * each run (null for a run no one owns yet).
 */
import type { Owner } from './store.js'

/** Owners by id, and each run's owner. */
export class MemoryOwners {
  readonly #owners = new Map<string, Owner>()
  readonly #runOwners = new Map<string, string | null>()

  /** Records an owner (replacing the one of the same id). */
  register(owner: Owner): void {
    this.#owners.set(owner.id, { ...owner })
  }

  /** Sets an owner's `heartbeatAt`; false when it is not registered. */
  heartbeat(ownerId: string, at: string): boolean {
    const owner = this.#owners.get(ownerId)
    if (owner === undefined) return false
    owner.heartbeatAt = at
    return true
  }

  /** Copies of the owners, in registration order. */
  list(): Owner[] {
    return [...this.#owners.values()].map((owner) => ({ ...owner }))
  }

  /** Removes an owner; its runs keep it as their owner, which makes them claimable. */
  remove(ownerId: string): void {
    this.#owners.delete(ownerId)
  }

  /**
   * Gives `ownerId` every run `unfinished` says yes to that has no owner, an
   * unregistered one or one of `fromOwners`, and removes those owners.
   * Returns the run ids, ascending.
   */
  claim(ownerId: string, fromOwners: readonly string[], unfinished: (runId: string) => boolean): string[] {
    const from = new Set(fromOwners)
    const claimed: string[] = []
    for (const [runId, owner] of this.#runOwners) {
      if (!unfinished(runId)) continue
      if (owner === null || from.has(owner) || !this.#owners.has(owner)) {
        this.#runOwners.set(runId, ownerId)
        claimed.push(runId)
      }
    }
    for (const owner of from) this.#owners.delete(owner)
    return claimed.sort()
  }

  /** The run's owner: null when it has none, undefined when the run is unknown. */
  ownerOf(runId: string): string | null | undefined {
    return this.#runOwners.get(runId)
  }

  /** Sets a new run's owner. */
  setOwner(runId: string, ownerId: string | null): void {
    this.#runOwners.set(runId, ownerId)
  }

  /** Forgets a run that is gone. */
  removeRun(runId: string): void {
    this.#runOwners.delete(runId)
  }
}
