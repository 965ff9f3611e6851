import { memoryStore } from '../../src/memory-store.js'
import { runStoreContract } from './store.contract.js'

runStoreContract('memory', async () => ({ store: memoryStore() }))
