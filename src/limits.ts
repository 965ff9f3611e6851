/**
 * Run limits: their check as options, how a run's own limits override its
 * agent's, and the error of a run that crossed one.
 */
import { RunError, ValidationError } from './errors.js'
import type { RunLimits } from './store.js'

const fields = ['maxDurationMs', 'maxTotalTokens', 'maxCostUsd'] as const

/** Checks a `limits` option: an object of positive numbers (whole ones but for `maxCostUsd`). */
export function checkLimits(value: unknown, where: string): RunLimits | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(`Expected \`${where}\` to be an object`)
  const limits: RunLimits = {}
  for (const key of Object.keys(value)) {
    if (!(fields as readonly string[]).includes(key)) throw new ValidationError(`Unknown limit \`${where}.${key}\`: expected one of ${fields.join(', ')}`)
  }
  for (const field of fields) {
    const number = (value as Record<string, unknown>)[field]
    if (number === undefined) continue
    const whole = field !== 'maxCostUsd'
    if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0 || (whole && !Number.isSafeInteger(number))) {
      throw new ValidationError(`Expected \`${where}.${field}\` to be a positive ${whole ? 'integer' : 'number'}, got \`${String(number)}\``)
    }
    limits[field] = number
  }
  return limits
}

/** The limits a run executes under: its agent's, each overridden by the run's own; null when there are none. */
export function effectiveLimits(agent: RunLimits | undefined, run: RunLimits | undefined): RunLimits | null {
  if (agent === undefined && run === undefined) return null
  const merged: RunLimits = { ...agent, ...run }
  return Object.keys(merged).length === 0 ? null : merged
}

/** The `run.limit_exceeded` of a run that crossed `limit`. */
export function limitExceeded(limit: keyof RunLimits, max: number, used: number): RunError {
  const what = limit === 'maxDurationMs' ? `${max} ms of execution` : limit === 'maxTotalTokens' ? `${max} tokens` : `${max} USD`
  return new RunError('run.limit_exceeded', `The run crossed its limit of ${what} (${limit})`, { details: { limit, max, used } })
}
