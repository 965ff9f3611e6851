/**
 * A workflow run's stretch: the workflow's function, from the top, with
 * each step answered from the log when it is recorded there (see
 * workflows.ts). A step's result is committed before the function goes on,
 * so a crash never loses a step that returned, and never runs one twice
 * once its result is stored.
 *
 * A child step (`ctx.runAgent`) whose child still runs suspends the
 * stretch: no new step starts, the steps under way finish and commit, and
 * the stretch ends waiting on children (its slot given back); the child's
 * end wakes the run, whose next stretch replays the function to that point.
 * The suspended call never settles, so code that catches errors around it
 * cannot go on by mistake.
 */
import { abortable } from './abortable.js'
import { completeRun, failRun, type LoopContext, type LoopOutcome } from './agent-loop.js'
import { HearthError, isHearthError, toErrorInfo, type ErrorCode } from './errors.js'
import type { InputRequest, Json } from './events.js'
import { openRequests } from './run-state.js'
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

/** A promise that never settles: what a call made after the stretch suspended gets. */
const never = new Promise<never>(() => {})

/** Runs the workflow of `context.agent` until it returns, throws, waits on a child, or the run is aborted. */
export async function runWorkflow(context: LoopContext): Promise<LoopOutcome> {
  const { log, signal } = context
  const spec = context.agent.workflow as WorkflowSpec
  const recorded = log.state.workflowSteps
  let position = 0
  let suspend!: () => void
  const suspended = new Promise<'suspended'>((resolve) => {
    suspend = () => resolve('suspended')
  })
  let halted = false
  let waitingForInput = false
  const underWay = new Set<Promise<unknown>>()

  /** The recorded result of step `index`, if any: returned, or thrown again. */
  const replay = (index: number, name: string): { output: Json } | undefined => {
    const done = recorded[index]
    if (done === undefined) return undefined
    if (done.name !== name) {
      throw new HearthError('workflow.nondeterministic', `Step ${index} of this run was ${done.name}, but the workflow now calls ${name} there: a changed workflow needs a new version`)
    }
    if (done.error !== undefined) throw new HearthError(done.error.code, done.error.message)
    return { output: done.output ?? null }
  }
  const fail = async (index: number, name: string, error: { code: ErrorCode; message: string }): Promise<never> => {
    log.append('workflow.step_failed', { step: index, name, error })
    await log.flush()
    throw new HearthError(error.code, error.message)
  }
  const succeed = async (index: number, name: string, output: Json): Promise<Json> => {
    log.append('workflow.step_completed', { step: index, name, output })
    // Committed before the workflow goes on: a crash after this never runs the step again.
    await log.flush()
    return output
  }

  const ctx: WorkflowContext = {
    runId: log.runId,
    sessionId: log.sessionId,
    signal,
    step: <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
      const index = position++
      const known = replay(index, name)
      if (known !== undefined) return Promise.resolve(known.output as T)
      if (halted) return never
      if (signal.aborted) return Promise.reject(signal.reason)
      const running = (async () => {
        let output: Json
        try {
          // Given up at once on an abort (cancel, close): a late result is dropped, as a tool's is.
          output = toJson(await abortable(Promise.resolve().then(fn), signal))
        } catch (error) {
          if (signal.aborted) throw error
          return fail(index, name, workflowError(error))
        }
        return succeed(index, name, output)
      })()
      underWay.add(running)
      running.then(
        () => underWay.delete(running),
        () => underWay.delete(running),
      )
      return running as Promise<T>
    },
    runTeam: (reference: string, input: string): Promise<Json> => ctx.runAgent(reference, input),
    runAgent: async (reference: string, input: string): Promise<Json> => {
      const index = position++
      const name = `agent ${reference}`
      const known = replay(index, name)
      if (known !== undefined) return known.output
      if (halted) return never
      if (signal.aborted) throw signal.reason
      const children = context.children
      if (children === undefined) return fail(index, name, { code: 'workflow.failed', message: 'This runtime runs no child runs here' })
      const outcome = await children.step(`step_${index}`, reference, input)
      if (outcome === 'running') {
        halted = true
        suspend()
        return never
      }
      if ('refused' in outcome) return fail(index, name, outcome.refused)
      if (outcome.status !== 'completed') {
        return fail(index, name, { code: 'workflow.failed', message: `Agent ${reference} ${outcome.status} (child run ${outcome.id})${outcome.error === null ? '' : `: ${outcome.error.message}`}` })
      }
      return succeed(index, name, (outcome.output ?? outcome.content ?? '') as Json)
    },
    sleep: async (ms: number): Promise<void> => {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new HearthError('validation.invalid', `Expected ctx.sleep() to be given milliseconds from 0, got ${String(ms)}`)
      const index = position++
      if (replay(index, 'sleep') !== undefined) return
      if (halted) return never
      if (signal.aborted) throw signal.reason
      let until = log.state.workflowTimers.get(index)
      if (until === undefined) {
        until = Date.now() + ms
        log.append('workflow.timer', { step: index, until: new Date(until).toISOString() })
        await log.flush()
      }
      if (Date.now() >= until) {
        await succeed(index, 'sleep', null)
        return
      }
      // Until then the run holds no slot: the scheduler wakes it, and the replay reaches this sleep again.
      context.wakeAt = Math.min(context.wakeAt ?? Number.POSITIVE_INFINITY, until)
      halted = true
      suspend()
      return never
    },
    waitForInput: async (request: { prompt: string; data?: Json }): Promise<{ approved: boolean; content: string }> => {
      const index = position++
      const known = replay(index, 'input')
      if (known !== undefined) return known.output as { approved: boolean; content: string }
      if (halted) return never
      if (signal.aborted) throw signal.reason
      const callId = `step_${index}`
      const phase = log.state.toolPhase
      const answer = phase?.answers.get(callId)
      if (answer !== undefined) return (await succeed(index, 'input', { approved: answer.approved, content: answer.content })) as { approved: boolean; content: string }
      if (!(phase?.requests.some((asked) => asked.tool_call_id === callId && asked.run_id === undefined) ?? false)) {
        const asked: InputRequest = { kind: 'input', tool_call_id: callId, tool: 'input', arguments: request.data ?? null, prompt: String(request.prompt) }
        const pending = [...openRequests(phase), asked]
        log.append('run.waiting_for_input', { requests: pending })
        log.patch({ status: 'waiting_for_input', pendingInput: pending })
      }
      // Until it is answered the run holds no slot; the answer resumes it, and the replay reaches this call again.
      waitingForInput = true
      halted = true
      suspend()
      return never
    },
    parallel: <T>(branches: readonly (() => Promise<T>)[]): Promise<T[]> => Promise.all(branches.map((branch) => branch())),
  }

  try {
    const result = await Promise.race([spec.run(ctx, workflowInput(spec, log.state.messages.find((message) => message.role === 'user')?.content ?? '')), suspended])
    if (signal.aborted) return 'aborted'
    if (halted || result === 'suspended') {
      // The steps under way finish and commit first: none of them runs again in the next stretch.
      await Promise.allSettled([...underWay])
      await log.flush()
      return signal.aborted ? 'aborted' : waitingForInput && log.state.openChildren.size === 0 ? 'waiting' : 'children'
    }
    if (position < recorded.length) {
      throw new HearthError('workflow.nondeterministic', `The workflow returned after ${position} steps, but this run recorded ${recorded.length}: a changed workflow needs a new version`)
    }
    const content = typeof result === 'string' ? result : JSON.stringify(toJson(result))
    completeRun(context, content, typeof result === 'string' ? undefined : toJson(result))
  } catch (error) {
    if (signal.aborted) return 'aborted'
    if (log.broken !== undefined) throw log.broken
    if (halted) {
      await Promise.allSettled([...underWay])
      await log.flush()
      return waitingForInput && log.state.openChildren.size === 0 ? 'waiting' : 'children'
    }
    failRun(context, workflowError(error), '')
  }
  await log.flush()
  return 'finished'
}
