/**
 * hearth-runtime/http: a Runtime served over HTTP and Server-Sent Events.
 *
 *   import { createServer } from 'node:http'
 *   import { createHttpHandler, toNodeListener } from 'hearth-runtime/http'
 *   createServer(toNodeListener(createHttpHandler(runtime))).listen(8787, '127.0.0.1')
 */
export { createHttpHandler } from './handler.js'
export type { HttpHandler, HttpHandlerOptions } from './handler.js'
export type { CorsOptions } from './cross-site.js'
export { toNodeListener } from './node-listener.js'
export type { NodeListener, NodeListenerOptions } from './node-listener.js'
export { anonymousCaller, bearerToken } from './auth.js'
export type { Authenticate, HttpCaller } from './auth.js'
export { eventFrame } from './frame-batches.js'
export { eventToWire, messageToWire, metricsToWire, runDetailsToWire, runItemToWire, threadToWire } from './wire.js'
export type { EventWire, MessageWire, RunDetailsWire, RunItemWire, ThreadWire } from './wire.js'
export { agnoEvents, agnoMetrics } from './agno-view.js'
export type { AgnoEvent, AgnoMessage, AgnoMetrics, AgnoRun } from './agno-view.js'
export type { ErrorWire } from './responses.js'
