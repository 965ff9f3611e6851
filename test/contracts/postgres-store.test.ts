import { describe } from 'vitest'
import { postgresStore, type PostgresStoreOptions } from '../../adapters/postgres/index.js'
import type { Store } from '../../src/store.js'
import { postgresReachable, testDatabase } from '../postgres/pg-server.js'
import { runStoreContract, type StoreFixture } from 'hearth-runtime/testing/contracts'

const reachable = await postgresReachable()
const url = reachable ? await testDatabase('contract') : ''

describe.skipIf(!reachable)('PostgreSQL', () => {
  let schemas = 0

  // Each case gets a schema of its own in the file's database.
  function fixture(options: PostgresStoreOptions = {}): () => Promise<StoreFixture> {
    return async () => {
      const schema = `contract_${++schemas}`
      let store: Store = postgresStore({ connectionString: url }, { ...options, schema })
      return {
        store,
        async reopen() {
          await store.close()
          store = postgresStore({ connectionString: url }, { ...options, schema })
          return store
        },
        async cleanup() {
          await store.close()
        },
      }
    }
  }

  runStoreContract('postgres', fixture())
})
