/**
 * A workflow run's stretch: the workflow's function, from the top, with
 * each step answered from the log when it is recorded there (see
 * workflows.ts). A step's result is committed before the function goes on,
 * so a crash never loses a step that returned, and never runs one twice
 * once its result is stored.
 */
import { completeRun, failRun, type LoopContext, type LoopOutcome } from './agent-loop.js'
import { abortable } from './abortable.js'
import { HearthError, isHearthError, toErrorInfo, type ErrorCode } from './errors.js'
import type { Json } from './events.js'
import type { WorkflowContext, WorkflowSpec } from './workflows.js'
import { workflowInput } from './workflows.js'

/** A workflow's own error as the log keeps it: a hearth error as it is, anything else `workflow.failed` with its message. */
function workflowError(error: unknown): { code: ErrorCode; message: string } {
  if (isHearthError(error)) return toErrorInfo(error)
  return { code: 'workflow.failed', message: error instanceof Error ? error.message : String(error) }
}

function toJson(value: unknown): Json {
  if (value === undefined) return null
  return JSON.parse(JSON.stringify(value)) as Json
}

/** Runs the workflow of `context.agent` until it returns, throws, or the run is aborted. */
export async function runWorkflow(context: LoopContext): Promise<LoopOutcome> {
  const { log, signal } = context
  const spec = context.agent.workflow as WorkflowSpec
  const recorded = log.state.workflowSteps
  let position = 0
  const ctx: WorkflowContext = {
    runId: log.runId,
    sessionId: log.sessionId,
    signal,
    step: async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
      const index = position++
      const done = recorded[index]
      if (done !== undefined) {
        if (done.name !== name) {
          throw new HearthError('workflow.nondeterministic', `Step ${index} of this run was ${done.name}, but the workflow now calls ${name} there: a changed workflow needs a new version`)
        }
        if (done.error !== undefined) throw new HearthError(done.error.code, done.error.message)
        return done.output as T
      }
      if (signal.aborted) throw signal.reason
      let output: Json
      try {
        // Given up at once on an abort (cancel, close): a late result is dropped, as a tool's is.
        output = toJson(await abortable(Promise.resolve().then(fn), signal))
      } catch (error) {
        if (signal.aborted) throw error
        log.append('workflow.step_failed', { step: index, name, error: workflowError(error) })
        await log.flush()
        throw error
      }
      log.append('workflow.step_completed', { step: index, name, output })
      // Committed before the workflow goes on: a crash after this never runs the step again.
      await log.flush()
      return output as T
    },
  }
  try {
    const result = await spec.run(ctx, workflowInput(spec, log.state.messages.find((message) => message.role === 'user')?.content ?? ''))
    if (signal.aborted) return 'aborted'
    if (position < recorded.length) {
      throw new HearthError('workflow.nondeterministic', `The workflow returned after ${position} steps, but this run recorded ${recorded.length}: a changed workflow needs a new version`)
    }
    const content = typeof result === 'string' ? result : JSON.stringify(toJson(result))
    completeRun(context, content, typeof result === 'string' ? undefined : toJson(result))
  } catch (error) {
    if (signal.aborted) return 'aborted'
    if (log.broken !== undefined) throw log.broken
    failRun(context, workflowError(error), '')
  }
  await log.flush()
  return 'finished'
}
