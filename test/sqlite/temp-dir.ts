/**
 * Temporary directories for the SQLite tests, under the OS temp dir, removed
 * by `cleanup`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh directory, a path maker inside it, and its removal. */
export interface TempDirectory {
  directory: string
  /** A path inside the directory, e.g. `file('agents.db')`. */
  file(name: string): string
  cleanup(): Promise<void>
}

/** Makes a fresh temporary directory. */
export async function tempDirectory(prefix = 'hearth-sqlite-'): Promise<TempDirectory> {
  const directory = await mkdtemp(join(tmpdir(), prefix))
  return {
    directory,
    file: (name) => join(directory, name),
    cleanup: () => rm(directory, { recursive: true, force: true }),
  }
}
