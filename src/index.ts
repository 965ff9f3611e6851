/**
 * hearth: an agent runtime that lives inside your Node process.
 */
export * from './errors.js'
export type * from './events.js'
export { isTerminalEvent, terminalEventTypes } from './events.js'
export type * from './model.js'
export type * from './store.js'
export { isTerminalStatus, runStatuses } from './store.js'
export { MemoryStore, memoryStore } from './memory-store.js'
export type { MemoryStoreOptions } from './memory-store.js'
export { tool, toJsonSchema, toToolSpec } from './tools.js'
export type { Tool, ToolContext, ToolOptions } from './tools.js'
export { createId, createTraceId } from './ids.js'
