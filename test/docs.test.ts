/**
 * The docs are checked like code: every TypeScript block of README.md and
 * docs/*.md type-checks against the repo's source in one program, the README
 * stays a front page, and every relative link lands. The conventions (which
 * blocks are checked, the names a block may use without declaring them) are
 * in test/docs-blocks.ts.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { checkLinks, extractBlocks, githubSlug, headingAnchors, isCheckedBlock, typeCheckBlocks, type DocsProblem } from './docs-blocks.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const markdownFiles = ['README.md', ...readdirSync(resolve(root, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .sort()
  .map((name) => `docs/${name}`)]

const format = (problems: readonly DocsProblem[]): string => problems.map((problem) => `${problem.file}:${problem.line}: ${problem.message}`).join('\n')

describe('the docs', () => {
  it('type-check: every ts block of README.md and docs/*.md, in one program against the source', () => {
    const blocks = markdownFiles.flatMap((file) => extractBlocks(readFileSync(resolve(root, file), 'utf8'), file)).filter(isCheckedBlock)
    expect(blocks.length).toBeGreaterThan(10)
    const problems = typeCheckBlocks(root, blocks)
    expect(format(problems)).toBe('')
  }, 60_000)

  it('README.md is a front page of at most 300 lines', () => {
    const lines = readFileSync(resolve(root, 'README.md'), 'utf8').trimEnd().split('\n').length
    expect(lines).toBeLessThanOrEqual(300)
  })

  it('every relative link in README.md and docs/*.md names a file, and a heading, that exists', () => {
    const problems = markdownFiles.flatMap((file) => checkLinks(root, file))
    expect(format(problems)).toBe('')
  })
})

describe('the docs checks themselves', () => {
  it('take ts and typescript blocks, and skip ts no-check and other languages', () => {
    const markdown = ['# T', '```ts', 'a', '```', '```typescript', 'b', '```', '```ts no-check', 'c', '```', '```sh', 'd', '```', '````md', '```ts', 'e', '```', '````'].join('\n')
    const blocks = extractBlocks(markdown, 'x.md')
    expect(blocks.map((block) => [block.line, block.code, isCheckedBlock(block)])).toEqual([
      [3, 'a', true],
      [6, 'b', true],
      [9, 'c', false],
      [12, 'd', false],
      [15, '```ts\ne\n```', false],
    ])
  })

  it('report a type error at its line in the markdown file', () => {
    const blocks = extractBlocks(['# T', '', '```ts', "const word: string = 'two'", 'const n: number = word', '```'].join('\n'), 'docs/x.md')
    const problems = typeCheckBlocks(root, blocks)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({ file: 'docs/x.md', line: 5 })
  }, 60_000)

  it('make anchors as GitHub does', () => {
    expect(githubSlug('SQLite: `hearth-runtime/sqlite`')).toBe('sqlite-hearth-runtimesqlite')
    expect(githubSlug('OpenAI and compatible servers (`hearth-runtime/openai`)')).toBe('openai-and-compatible-servers-hearth-runtimeopenai')
    expect(githubSlug('A custom ModelProvider in a few lines')).toBe('a-custom-modelprovider-in-a-few-lines')
    expect([...headingAnchors('# Options\n## Options\n```\n# not a heading\n```\n### Options')]).toEqual(['options', 'options-1', 'options-2'])
  })
})
