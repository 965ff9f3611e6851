/**
 * loadPeer(): an optional peer imported on first use, once, and a missing one
 * reported as `dependency.missing` with what to install.
 */
import { describe, expect, it } from 'vitest'
import { DependencyError, httpStatusOf, InternalError } from '../src/errors.js'
import { isMissingPackage, loadPeer, peerError } from '../src/optional-peer.js'

const sqlite = { subpath: 'hearth-runtime/sqlite', install: 'better-sqlite3@12' }

/** An error shaped as Node throws it, with its `code`. */
function nodeError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code })
}

describe('loadPeer', () => {
  it('imports an installed package once and gives every caller its namespace', async () => {
    const [first, second] = await Promise.all([
      loadPeer<{ default: unknown }>('better-sqlite3', sqlite),
      loadPeer<{ default: unknown }>('better-sqlite3', sqlite),
    ])
    expect(typeof first.default).toBe('function')
    expect(second).toBe(first)
    expect(await loadPeer('better-sqlite3', sqlite)).toBe(first)
  })

  it('rejects with dependency.missing naming the package and what to install, the import error as cause', async () => {
    const error = await loadPeer('hearth-no-such-peer', { subpath: 'hearth-runtime/example', install: 'hearth-no-such-peer@3' }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DependencyError)
    expect(error).toMatchObject({ code: 'dependency.missing', message: 'hearth-runtime/example needs hearth-no-such-peer: npm install hearth-no-such-peer@3' })
    expect((error as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' })
    expect(httpStatusOf['dependency.missing']).toBe(500)
  })

  it('tries a failed import again on the next call', async () => {
    const options = { subpath: 'hearth-runtime/example', install: 'hearth-no-such-peer@3' }
    const first = await loadPeer<never>('hearth-no-such-peer', options).catch((caught: unknown) => caught as Error)
    const second = await loadPeer<never>('hearth-no-such-peer', options).catch((caught: unknown) => caught as Error)
    expect(second).toMatchObject({ code: 'dependency.missing' })
    // A new import, not the first one's rejection replayed.
    expect(second.cause).not.toBe(first.cause)
  })
})

describe('what counts as a missing peer', () => {
  it.each<[string, Error]>([
    ['import of the package', nodeError('ERR_MODULE_NOT_FOUND', "Cannot find package 'better-sqlite3' imported from /app/node_modules/hearth-runtime/dist/src/optional-peer.js")],
    ['import of a subpath of the package', nodeError('ERR_MODULE_NOT_FOUND', "Cannot find package 'better-sqlite3/lib' imported from /app/x.js")],
    ['require of the package', nodeError('MODULE_NOT_FOUND', "Cannot find module 'better-sqlite3'\nRequire stack:\n- /app/x.cjs")],
  ])('the %s', (_, error) => {
    expect(isMissingPackage(error, 'better-sqlite3')).toBe(true)
  })

  it.each<[string, unknown]>([
    // The peer is there, but a package it requires is not: the require stack names the peer's files.
    ['a dependency of the peer', nodeError('MODULE_NOT_FOUND', "Cannot find module 'bindings'\nRequire stack:\n- /app/node_modules/better-sqlite3/lib/database.js")],
    ['a file of a broken install', nodeError('ERR_MODULE_NOT_FOUND', "Cannot find module '/app/node_modules/better-sqlite3/lib/index.js' imported from /app/x.js")],
    ['another package whose name starts the same', nodeError('ERR_MODULE_NOT_FOUND', "Cannot find package 'better-sqlite3-helper' imported from /app/x.js")],
    ['another error code', nodeError('ERR_DLOPEN_FAILED', "Cannot find package 'better-sqlite3'")],
    ['a thrown string', "Cannot find package 'better-sqlite3'"],
  ])('not %s', (_, error) => {
    expect(isMissingPackage(error, 'better-sqlite3')).toBe(false)
  })

  it('reports a peer that is installed but fails to load as an internal error naming it, with the cause', () => {
    const cause = nodeError('ERR_DLOPEN_FAILED', 'The module was compiled against a different Node.js version using NODE_MODULE_VERSION 115')
    const error = peerError(cause, 'better-sqlite3', sqlite)
    expect(error).toBeInstanceOf(InternalError)
    expect(error).toMatchObject({ code: 'internal.error', message: `hearth-runtime/sqlite cannot load better-sqlite3: ${cause.message}`, cause })
  })

  it('names the package of a scoped specifier', () => {
    const cause = nodeError('ERR_MODULE_NOT_FOUND', "Cannot find package '@scope/driver' imported from /app/x.js")
    expect(peerError(cause, '@scope/driver/sub', { subpath: 'hearth-runtime/x', install: '@scope/driver@1' }).message).toBe(
      'hearth-runtime/x needs @scope/driver: npm install @scope/driver@1',
    )
  })
})
