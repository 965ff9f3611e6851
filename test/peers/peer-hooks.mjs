/**
 * Module hooks for child processes of the optional-peer tests, registered by
 * `register-peer-hooks.mjs`. `hide`: peers that the library's own files
 * (under `src/` and `adapters/`) cannot resolve, failing as Node fails for a
 * package that is not installed. `log`: a file that gets one line per bare
 * specifier resolved, `<specifier> <importer>`, written before the import
 * goes on, so it is complete once the import has settled.
 */
import { appendFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

let hidden = new Set()
let logFile
let libraryFolders = []

/** Takes the options `register()` was given. */
export async function initialize({ hide = [], log, root }) {
  hidden = new Set(hide)
  logFile = log
  libraryFolders = ['src/', 'adapters/'].map((folder) => new URL(folder, root).href)
}

/** The package a bare specifier names: `openai` of `openai/resources`, `@scope/pkg` of `@scope/pkg/sub`. */
function packageName(specifier) {
  const parts = specifier.split('/')
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')
}

/** Logs bare specifiers, and fails the hidden ones for the library's files. */
export async function resolve(specifier, context, nextResolve) {
  const bare = !/^(?:\.|\/|[a-z]+:)/i.test(specifier)
  if (bare && logFile !== undefined) appendFileSync(logFile, `${specifier} ${context.parentURL ?? ''}\n`)
  const parent = context.parentURL ?? ''
  if (bare && hidden.has(packageName(specifier)) && libraryFolders.some((folder) => parent.startsWith(folder))) {
    // Node's own wording and code for a package that is not installed.
    const error = new Error(`Cannot find package '${packageName(specifier)}' imported from ${fileURLToPath(parent)}`)
    error.code = 'ERR_MODULE_NOT_FOUND'
    throw error
  }
  return nextResolve(specifier, context)
}
