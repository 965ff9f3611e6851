/**
 * hearth-runtime/testing/contracts: the contract suites every adapter runs,
 * for vitest. A third-party Store or ModelProvider is done when it passes its
 * whole suite unchanged:
 *
 *   import { runStoreContract } from 'hearth-runtime/testing/contracts'
 *   runStoreContract('my store', async () => ({ store: myStore() }))
 *
 * Needs vitest (an optional peer of hearth-runtime).
 */
export { runStoreContract } from './store-contract.js'
export { makeChildRun, makeDelta, makeMessage, makeRun, makeSession } from './store-fixtures.js'
export type { StoreFixture } from './store-fixtures.js'
export { makeMemory } from './store-memories-contract.js'
export { runModelProviderContract } from './model-provider-contract.js'
export type { ModelProviderContractOptions, ModelProviderFixture } from './model-provider-contract.js'
