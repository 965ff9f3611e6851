/**
 * hearth-runtime/testing: helpers for testing agents without a network.
 */
export { scriptedModel, reply, callTools } from './scripted-model.js'
export type { ScriptStep, ScriptedTurn, TurnPicker, ScriptedModelOptions, ScriptedModel } from './scripted-model.js'
export { runKillTest } from './kill-harness.js'
export type { KillScenario, KillTestOptions, KillReport } from './kill-harness.js'
