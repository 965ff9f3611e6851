import { sqliteStore, type SqliteStoreOptions } from '../../adapters/sqlite/index.js'
import type { Store } from '../../src/store.js'
import { tempDirectory } from '../sqlite/temp-dir.js'
import { runStoreContract, type StoreFixture } from 'hearth-runtime/testing/contracts'

function fileFixture(options: Omit<SqliteStoreOptions, 'path' | 'database'> = {}): () => Promise<StoreFixture> {
  return async () => {
    const temp = await tempDirectory()
    const path = temp.file('store.db')
    let store: Store = sqliteStore({ ...options, path })
    return {
      store,
      async reopen() {
        await store.close()
        store = sqliteStore({ ...options, path })
        return store
      },
      async cleanup() {
        await store.close()
        await temp.cleanup()
      },
    }
  }
}

runStoreContract('sqlite', fileFixture())
runStoreContract("sqlite, synchronous: 'full'", fileFixture({ synchronous: 'full' }))
