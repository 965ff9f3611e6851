/**
 * What the package test measures and inspects without running the package's
 * own code: top-level await in the compiled files, and how long a fresh Node
 * process takes to load the root entry with require() and with import().
 */
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import { expectSuccess, runChild } from './child.js'

/** The `file:line` of every top-level `await` (or `for await`) in the JavaScript file at `path`. */
export function topLevelAwaits(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.JS)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    // Inside any function an await is the function's own, not the module's.
    if (ts.isFunctionLike(node)) return
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier !== undefined)) {
      found.push(`${path}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** How long loading the root entry takes in fresh processes, in ms: one sample a process. */
export interface LoadTimes {
  require: number[]
  import: number[]
}

const loaders = {
  require: ['-e', `const t = performance.now(); require('hearth-runtime'); process.stdout.write(String(performance.now() - t))`],
  import: ['--input-type=module', '-e', `const t = performance.now(); await import('hearth-runtime'); process.stdout.write(String(performance.now() - t))`],
} as const

/** Loads `hearth-runtime` from `consumer` in `runs` fresh processes each way, alternating. */
export async function measureLoadTimes(consumer: string, runs: number): Promise<LoadTimes> {
  const times: LoadTimes = { require: [], import: [] }
  for (let index = 0; index < runs; index++) {
    for (const way of ['require', 'import'] as const) {
      const result = expectSuccess(await runChild(process.execPath, loaders[way], { cwd: consumer, timeoutMs: 20_000 }), `${way}('hearth-runtime')`)
      times[way].push(Number(result.stdout))
    }
  }
  return times
}

/** The command that prints one sample, for the report. */
export function loadCommand(way: keyof typeof loaders): string {
  return `node ${loaders[way].map((part) => (part.startsWith('-') ? part : JSON.stringify(part))).join(' ')}`
}
