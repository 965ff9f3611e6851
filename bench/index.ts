/**
 * Every benchmark behind the README's figures, in one process run.
 *
 *   npm run bench
 */
import { benchCore, printComparisons } from './core.js'
import { benchImportCost } from './import-cost.js'

printComparisons('Core on the memory store (floor: a hand-written loop, same model and tool)', await benchCore())

const imports = benchImportCost()
console.log(
  `\nImport cost (median of 11, interleaved): node + hearth ${imports.hearthMs.toFixed(1)} ms, node + zod ${imports.zodMs.toFixed(1)} ms, ratio ${imports.ratio.toFixed(3)}`,
)
