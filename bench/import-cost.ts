/**
 * Import cost: a whole `node` process that imports `hearth` beside one that
 * imports only `zod`, interleaved, median of 11 each. Needs `npm run build`
 * (the package's exports point at dist/).
 *
 *   npx tsx bench/import-cost.ts
 */
import { spawnSync } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { median } from './core.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

function timeImport(specifier: string): number {
  const start = performance.now()
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`], { cwd: root, stdio: 'inherit' })
  const elapsed = performance.now() - start
  if (child.status !== 0) throw new Error(`importing ${specifier} failed (did you run npm run build?)`)
  return elapsed
}

/** Median wall time of a process importing hearth, of one importing zod, and their ratio. */
export function benchImportCost(runs = 11): { hearthMs: number; zodMs: number; ratio: number } {
  timeImport('hearth-runtime')
  timeImport('zod')
  const hearth: number[] = []
  const zod: number[] = []
  for (let index = 0; index < runs; index++) {
    hearth.push(timeImport('hearth-runtime'))
    zod.push(timeImport('zod'))
  }
  const hearthMs = median(hearth)
  const zodMs = median(zod)
  return { hearthMs, zodMs, ratio: hearthMs / zodMs }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = benchImportCost()
  console.log(`import cost: hearth ${result.hearthMs.toFixed(1)} ms, zod alone ${result.zodMs.toFixed(1)} ms, ratio ${result.ratio.toFixed(3)}`)
}
