/**
 * The control requests of the in-memory Store: cancels and inputs recorded
 * for a run's owner, kept with their run and dropped with it.
 */
import { StorageError } from './errors.js'
import type { ControlRequest, ControlSettlement } from './store.js'

/** Control requests by id, with the ones still open (pending or accepted) apart. */
export class MemoryControls {
  readonly #requests = new Map<string, ControlRequest>()
  /** Pending and accepted requests, in insertion (oldest first) order. */
  readonly #open = new Map<string, ControlRequest>()
  /** Request ids of each run, so they go with it. */
  readonly #byRun = new Map<string, string[]>()

  /** Keeps a new request; a duplicate id fails with `storage.failed`. */
  insert(request: ControlRequest): void {
    if (this.#requests.has(request.id)) throw new StorageError('storage.failed', `Control request ${request.id} already exists`)
    const kept = copyRequest(request)
    this.#requests.set(kept.id, kept)
    if (kept.status === 'pending' || kept.status === 'accepted') this.#open.set(kept.id, kept)
    const ids = this.#byRun.get(kept.runId)
    if (ids === undefined) this.#byRun.set(kept.runId, [kept.id])
    else ids.push(kept.id)
  }

  /** A copy of the request, or undefined. */
  get(id: string): ControlRequest | undefined {
    const request = this.#requests.get(id)
    return request === undefined ? undefined : copyRequest(request)
  }

  /** Copies of the open requests whose run `owns` says yes to, oldest first. */
  open(owns: (runId: string) => boolean): ControlRequest[] {
    const result: ControlRequest[] = []
    for (const request of this.#open.values()) if (owns(request.runId)) result.push(copyRequest(request))
    return result.sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  /** Moves a pending request to `status`; false when it is not pending. */
  mark(id: string, status: 'accepted' | 'withdrawn', at: string): boolean {
    const request = this.#requests.get(id)
    if (request?.status !== 'pending') return false
    request.status = status
    if (status === 'withdrawn') {
      request.settledAt = at
      this.#open.delete(id)
    }
    return true
  }

  /** Throws `storage.conflict` unless every settled request is accepted (and named once). */
  checkSettlements(settlements: readonly ControlSettlement[]): void {
    const seen = new Set<string>()
    for (const settlement of settlements) {
      const request = this.#requests.get(settlement.id)
      if (request === undefined) throw new StorageError('storage.failed', `Control request ${settlement.id} does not exist`)
      if (request.status !== 'accepted' || seen.has(settlement.id)) {
        throw new StorageError('storage.conflict', `Control request ${settlement.id} is ${request.status}, not accepted`)
      }
      seen.add(settlement.id)
    }
  }

  /** Applies settlements checked by `checkSettlements`. */
  settle(settlements: readonly ControlSettlement[]): void {
    for (const settlement of settlements) {
      const request = this.#requests.get(settlement.id) as ControlRequest
      request.status = settlement.status
      request.error = settlement.error === undefined ? null : { ...settlement.error }
      request.settledAt = settlement.settledAt
      this.#open.delete(settlement.id)
    }
  }

  /** Drops the requests of a run that is gone. */
  removeRun(runId: string): void {
    for (const id of this.#byRun.get(runId) ?? []) {
      this.#requests.delete(id)
      this.#open.delete(id)
    }
    this.#byRun.delete(runId)
  }
}

function copyRequest(request: ControlRequest): ControlRequest {
  return { ...request, action: { ...request.action }, error: request.error === null ? null : { ...request.error } }
}
