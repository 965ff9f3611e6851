/**
 * A Stryker reporter that appends each tested mutant to
 * `reports/mutation/live.jsonl` as soon as its result is known (file, line,
 * mutator, replacement, status), so that the survivors of a run of an hour or
 * more can be read, and worked on, while it goes on. Stryker's own reports
 * are written only at the end.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { PluginKind, declareClassPlugin } from '@stryker-mutator/api/plugin'
import type { MutantResult } from '@stryker-mutator/api/core'

/** Where the lines go. */
export const liveFile = 'reports/mutation/live.jsonl'

class LiveReporter {
  constructor() {
    mkdirSync(dirname(liveFile), { recursive: true })
    writeFileSync(liveFile, '')
  }

  onMutantTested(result: Readonly<MutantResult>): void {
    const line = {
      file: result.fileName,
      line: result.location.start.line,
      column: result.location.start.column,
      mutator: result.mutatorName,
      replacement: result.replacement,
      status: result.status,
    }
    appendFileSync(liveFile, `${JSON.stringify(line)}\n`)
  }
}

/** Stryker's plugin list: the reporter `live`. */
export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'live', LiveReporter)]
