/**
 * The one rule both SQL stores keep about schema versions: a database newer
 * than the code is refused, never downgraded or written to.
 */
import { StorageError } from '../../src/errors.js'

/** Throws `storage.newer_schema` when `current` is past `latest`, the last version this code knows. */
export function checkNotNewer(current: number, latest: number, name: string): void {
  if (current <= latest) return
  throw new StorageError(
    'storage.newer_schema',
    `${name} has schema version ${current}, newer than version ${latest} that this version of hearth knows; upgrade hearth to open it`,
    { details: { schemaVersion: current, knownVersion: latest } },
  )
}
