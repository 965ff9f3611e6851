/**
 * Loading an optional peer dependency (better-sqlite3, openai) the first time
 * an adapter needs it, instead of at import. Importing an adapter therefore
 * never fails, `require()` of the built package keeps working (no top-level
 * await, no static import of a peer), and a peer that is not installed fails
 * with a {@link DependencyError} that says what to install, never with a bare
 * `ERR_MODULE_NOT_FOUND`.
 */
import { DependencyError, InternalError } from './errors.js'

/** Who needs a peer and how to get it, for the error when it cannot be loaded. */
export interface PeerOptions {
  /** The hearth entry point that needs the peer, e.g. `hearth-runtime/sqlite`. */
  subpath: string
  /** What `npm install` should be given, e.g. `better-sqlite3@12`. */
  install: string
}

/** The import of each specifier, shared by every caller until it fails. */
const imports = new Map<string, Promise<unknown>>()

/**
 * Imports `specifier` once per process and resolves with its module namespace
 * (for a CommonJS package, `default` is its `module.exports`). When the
 * package is not installed, rejects with a `dependency.missing`
 * {@link DependencyError}: `hearth-runtime/sqlite needs better-sqlite3: npm install better-sqlite3@12`.
 * When it is installed but fails to load (a native binary built for another
 * Node, a syntax error), rejects with an {@link InternalError} naming the
 * package. Either keeps the import's error as `cause`. A failed import is
 * tried again on the next call, so installing the package needs no restart.
 */
export function loadPeer<T>(specifier: string, options: PeerOptions): Promise<T> {
  let loading = imports.get(specifier)
  if (loading === undefined) {
    const started: Promise<unknown> = import(specifier)
    loading = started
    imports.set(specifier, started)
    started.catch(() => {
      if (imports.get(specifier) === started) imports.delete(specifier)
    })
  }
  return loading.then(
    (namespace) => namespace as T,
    (error: unknown) => {
      throw peerError(error, specifier, options)
    },
  )
}

/** The error {@link loadPeer} rejects with when importing `specifier` threw `error`. */
export function peerError(error: unknown, specifier: string, options: PeerOptions): DependencyError | InternalError {
  const name = packageName(specifier)
  if (isMissingPackage(error, name)) {
    return new DependencyError(`${options.subpath} needs ${name}: npm install ${options.install}`, { cause: error })
  }
  const reason = error instanceof Error ? error.message : String(error)
  return new InternalError(`${options.subpath} cannot load ${name}: ${reason}`, { cause: error })
}

/**
 * True when `error` says that the package `name` itself cannot be found, as
 * Node words it for `import` ("Cannot find package 'openai' imported from ...")
 * and for `require` ("Cannot find module 'openai'"). A module missing inside
 * an installed package (a dependency of the peer, a file of a broken install)
 * names another specifier, or a path, and is not the peer missing.
 */
export function isMissingPackage(error: unknown, name: string): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as { code?: unknown; message?: unknown }
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false
  if (typeof message !== 'string') return false
  // Only the first line: a require stack below it lists the files of whoever asked, the peer among them.
  const firstLine = message.split('\n', 1)[0] as string
  const quoted = /^Cannot find (?:package|module) '([^']+)'/.exec(firstLine)?.[1]
  return quoted !== undefined && (quoted === name || quoted.startsWith(`${name}/`))
}

/** The package a bare specifier names: `openai` of `openai/resources`, `@scope/pkg` of `@scope/pkg/sub`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/')
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')
}
