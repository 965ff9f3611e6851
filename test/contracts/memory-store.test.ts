import { memoryStore } from '../../src/memory-store.js'
import { runStoreContract } from 'hearth-runtime/testing/contracts'

runStoreContract('memory', async () => ({ store: memoryStore() }))
