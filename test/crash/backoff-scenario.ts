/**
 * A kill during a retry's backoff: the model fails the first two attempts of
 * each turn after one delta (asking to wait 5 s after the first, so the kill
 * lands while the victim waits), and answers `done` at the third. The victim
 * commits `run.started`, the first attempt's delta and its `model.retry`,
 * then dies; the survivor goes on counting from that retry.
 */
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { ProviderError, type Runtime } from '../../src/index.js'
import { reply, scriptedModel, type KillScenario } from '../../src/testing/index.js'

/** The events the victim commits before it waits out the first backoff. */
export const eventsThroughFirstRetry = ['run.started', 'message.delta', 'model.retry'] as const

const scenario: KillScenario = {
  runtimeOptions: ({ storePath }) => ({
    store: sqliteStore({ path: storePath }),
    leaseMs: 600_000,
    model: scriptedModel((_request, _index, attempt) =>
      attempt >= 3
        ? reply('done')
        : [{ text: `attempt ${attempt} ` }, { error: new ProviderError('provider.unavailable', `attempt ${attempt} failed`, { retryAfterMs: attempt === 1 ? 5_000 : 10 }) }],
    ),
  }),
  async drive(runtime: Runtime) {
    await runtime.createRun({ input: 'try hard' })
  },
}
export default scenario
