/**
 * `npm run test:mutation`: StrykerJS on the heart of the core (the files in
 * stryker.config.json's `mutate`), with per-test coverage so that each mutant
 * runs only the tests that reach it. Prints Stryker's report, then, as its
 * last line, `mutation score: NN.N%` (killed and timed-out mutants over all
 * that were tested or not covered; compile errors and ignored ones left out,
 * as Stryker counts). `--mutate <glob>` narrows the files, for work on one.
 */
import { Stryker } from '@stryker-mutator/core'

const index = process.argv.indexOf('--mutate')
const mutate = index === -1 ? undefined : process.argv.slice(index + 1).filter((argument) => !argument.startsWith('--'))
const started = performance.now()
const results = await new Stryker({ configFile: 'stryker.config.json', ...(mutate === undefined ? {} : { mutate }) }).runMutationTest()
const count = (statuses: readonly string[]): number => results.filter((result) => statuses.includes(result.status)).length
const detected = count(['Killed', 'Timeout'])
const undetected = count(['Survived', 'NoCoverage'])
const minutes = (performance.now() - started) / 60_000
console.log(`${results.length} mutants: ${detected} detected, ${count(['Survived'])} survived, ${count(['NoCoverage'])} not covered, ${count(['CompileError', 'RuntimeError', 'Ignored'])} left out; ${minutes.toFixed(1)} min`)
console.log(`mutation score: ${((100 * detected) / Math.max(1, detected + undetected)).toFixed(1)}%`)
