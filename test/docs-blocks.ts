/**
 * What test/docs.test.ts checks in README.md and docs/*.md: the TypeScript
 * blocks, type-checked in one program against the repo's source, and the
 * relative links, which must name files and headings that exist.
 *
 * Conventions for the writers of the docs:
 * - A fenced block whose info string is `ts` or `typescript` is checked; one
 *   marked ```ts no-check is not (say why in the text around it). Other
 *   languages (sh, json, plain) are not checked.
 * - Each block is a module of its own (`export {}` is appended), so top-level
 *   `await` works and blocks never see each other's names.
 * - `hearth-runtime` and `hearth-runtime/*` resolve to the repo's source
 *   (src/, adapters/), never to dist/; other packages to node_modules.
 * - A block may use the names of {@link docsPrelude} without declaring them
 *   (an open `runtime`, a `refund` tool, ...). Anything else it uses, it
 *   imports or declares itself.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

/** A fenced code block of a markdown file. */
export interface CodeBlock {
  /** The markdown file, relative to the repo root (e.g. `docs/sqlite.md`). */
  file: string
  /** The 1-based line, in the markdown file, of the block's first line of code. */
  line: number
  /** The info string after the opening fence (e.g. `ts no-check`). */
  info: string
  code: string
}

/** A problem found in the docs, at a line of a markdown file. */
export interface DocsProblem {
  file: string
  line: number
  message: string
}

/**
 * Names any checked block may use without declaring them: the objects the
 * docs' running examples talk about. A block that declares one of these
 * names itself shadows it.
 */
export const docsPrelude = `
// Served to every checked docs block as a global declaration file.
/** An open runtime. */
declare const runtime: import('hearth-runtime').Runtime
/** The id of a run, e.g. one that waits for input. */
declare const runId: string
/** The id of the tool call a waiting run asks about. */
declare const toolCallId: string
/** A tool of the support agent. */
declare const refund: import('hearth-runtime').Tool
`

const fence = /^(\s*)(`{3,}|~{3,})\s*([^`]*?)\s*$/

/** Every fenced code block of a markdown text, with its info string and position. */
export function extractBlocks(markdown: string, file: string): CodeBlock[] {
  const blocks: CodeBlock[] = []
  const lines = markdown.split(/\r?\n/)
  let open: { marker: string; info: string; start: number; body: string[] } | undefined
  lines.forEach((text, index) => {
    if (open === undefined) {
      const match = fence.exec(text)
      if (match !== null) open = { marker: match[2] as string, info: match[3] as string, start: index + 2, body: [] }
      return
    }
    const trimmed = text.trim()
    if (trimmed.startsWith(open.marker) && /^(`+|~+)$/.test(trimmed) && trimmed[0] === open.marker[0]) {
      blocks.push({ file, line: open.start, info: open.info, code: open.body.join('\n') })
      open = undefined
      return
    }
    open.body.push(text)
  })
  return blocks
}

/** True for a block the docs test type-checks: info string `ts` or `typescript`, without `no-check`. */
export function isCheckedBlock(block: CodeBlock): boolean {
  const [language, ...flags] = block.info.split(/\s+/)
  return (language === 'ts' || language === 'typescript') && !flags.includes('no-check')
}

const hearthEntries: Record<string, string> = {
  'hearth-runtime': 'src/index.ts',
  'hearth-runtime/testing': 'src/testing/index.ts',
  'hearth-runtime/testing/contracts': 'src/testing/contracts/index.ts',
  'hearth-runtime/sqlite': 'adapters/sqlite/index.ts',
  'hearth-runtime/postgres': 'adapters/postgres/index.ts',
  'hearth-runtime/openai': 'adapters/openai/index.ts',
  'hearth-runtime/anthropic': 'adapters/anthropic/index.ts',
  'hearth-runtime/ai-sdk': 'adapters/ai-sdk/index.ts',
  'hearth-runtime/mcp': 'adapters/mcp/index.ts',
  'hearth-runtime/http': 'adapters/http/index.ts',
}

/** The compiler options of the repo's tsconfig.json, for checking only, with hearth-runtime/* mapped to source. */
function compilerOptions(root: string): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.json')
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path))
  if (config.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, configPath)
  const paths: Record<string, string[]> = {}
  for (const [specifier, path] of Object.entries(hearthEntries)) paths[specifier] = [join(root, path)]
  return {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    skipLibCheck: true,
    types: ['node'],
    paths,
    pathsBasePath: root,
  }
}

/**
 * Type-checks the blocks in one program. Each block is served as a virtual
 * module under the repo root (so the repo's package.json makes it ESM and
 * its node_modules resolve), named after its markdown file and position,
 * e.g. `.docs-blocks/docs/sqlite.md.block3.ts`.
 */
export function typeCheckBlocks(root: string, blocks: readonly CodeBlock[]): DocsProblem[] {
  const virtualRoot = join(root, '.docs-blocks')
  const virtual = new Map<string, { text: string; block?: CodeBlock }>()
  const preludePath = join(virtualRoot, 'docs-prelude.d.ts')
  virtual.set(preludePath, { text: docsPrelude })
  const counters = new Map<string, number>()
  for (const block of blocks) {
    const count = (counters.get(block.file) ?? 0) + 1
    counters.set(block.file, count)
    const path = join(virtualRoot, `${block.file}.block${count}.ts`)
    // `export {}` goes after the code, so the block's lines keep their numbers.
    virtual.set(path, { text: `${block.code}\nexport {}\n`, block })
  }

  const options = compilerOptions(root)
  const host = ts.createCompilerHost(options, true)
  const base = { ...host }
  const isVirtualDirectory = (path: string): boolean => path === virtualRoot || path.startsWith(`${virtualRoot}/`)
  host.fileExists = (path) => virtual.has(path) || base.fileExists(path)
  host.readFile = (path) => virtual.get(path)?.text ?? base.readFile(path)
  host.directoryExists = (path) =>
    (isVirtualDirectory(path) && !path.includes('node_modules')) || (base.directoryExists?.(path) ?? ts.sys.directoryExists(path))
  host.getSourceFile = (path, languageVersion, onError, shouldCreate) => {
    const entry = virtual.get(path)
    if (entry !== undefined) return ts.createSourceFile(path, entry.text, languageVersion, true)
    return base.getSourceFile(path, languageVersion, onError, shouldCreate)
  }
  host.getCurrentDirectory = () => root

  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host })
  const problems: DocsProblem[] = []
  const report = (diagnostic: ts.Diagnostic): void => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    const file = diagnostic.file
    if (file === undefined || diagnostic.start === undefined) {
      problems.push({ file: '(compiler)', line: 0, message: `TS${diagnostic.code}: ${message}` })
      return
    }
    const { line, character } = file.getLineAndCharacterOfPosition(diagnostic.start)
    const block = virtual.get(file.fileName)?.block
    if (block === undefined) {
      problems.push({ file: relative(root, file.fileName), line: line + 1, message: `TS${diagnostic.code}: ${message}` })
      return
    }
    problems.push({ file: block.file, line: block.line + line, message: `TS${diagnostic.code} (column ${character + 1}): ${message}` })
  }
  for (const diagnostic of program.getOptionsDiagnostics()) report(diagnostic)
  for (const diagnostic of program.getGlobalDiagnostics()) report(diagnostic)
  for (const path of virtual.keys()) {
    const sourceFile = program.getSourceFile(path)
    if (sourceFile === undefined) {
      problems.push({ file: path, line: 0, message: 'not part of the program' })
      continue
    }
    for (const diagnostic of program.getSyntacticDiagnostics(sourceFile)) report(diagnostic)
    for (const diagnostic of program.getSemanticDiagnostics(sourceFile)) report(diagnostic)
  }
  return problems
}

/** Markdown without its fenced blocks and inline code, line numbers kept. */
function proseOf(markdown: string): string[] {
  const lines = markdown.split(/\r?\n/)
  let marker: string | undefined
  return lines.map((text) => {
    if (marker === undefined) {
      const match = fence.exec(text)
      if (match !== null) {
        marker = match[2] as string
        return ''
      }
      return text.replace(/(`+)[\s\S]*?\1/g, '')
    }
    const trimmed = text.trim()
    if (trimmed.startsWith(marker) && /^(`+|~+)$/.test(trimmed) && trimmed[0] === marker[0]) marker = undefined
    return ''
  })
}

/** The anchor GitHub gives a heading's text (github-slugger's rules on the rendered text). */
export function githubSlug(heading: string): string {
  const rendered = heading
    .replace(/`([^`]*)`/g, '$1')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/\*\*?([^*]+)\*\*?/g, '$1')
    .trim()
  return rendered.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
}

/** The anchors of every heading of a markdown text, with GitHub's `-1`, `-2` for repeats. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  const lines = markdown.split(/\r?\n/)
  let marker: string | undefined
  for (const text of lines) {
    const match = fence.exec(text)
    if (marker === undefined && match !== null) {
      marker = match[2] as string
      continue
    }
    if (marker !== undefined) {
      const trimmed = text.trim()
      if (trimmed.startsWith(marker) && /^(`+|~+)$/.test(trimmed) && trimmed[0] === marker[0]) marker = undefined
      continue
    }
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(text)
    if (heading === null) continue
    const slug = githubSlug(heading[1] as string)
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    anchors.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return anchors
}

/** Every relative link of a markdown file (inline `[text](target)` and reference definitions), outside code. */
export function relativeLinks(markdown: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = []
  proseOf(markdown).forEach((text, index) => {
    const targets: string[] = []
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1] as string)
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text)
    if (definition !== null) targets.push(definition[1] as string)
    for (const target of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue
      links.push({ line: index + 1, target })
    }
  })
  return links
}

/** Problems with the relative links of a markdown file: a missing file, or an anchor no heading has. */
export function checkLinks(root: string, file: string): DocsProblem[] {
  const problems: DocsProblem[] = []
  const absolute = join(root, file)
  for (const { line, target } of relativeLinks(readFileSync(absolute, 'utf8'))) {
    const hash = target.indexOf('#')
    const pathPart = decodeURI(hash === -1 ? target : target.slice(0, hash))
    const anchor = hash === -1 ? undefined : target.slice(hash + 1)
    const destination = pathPart === '' ? absolute : resolve(dirname(absolute), pathPart)
    if (!existsSync(destination)) {
      problems.push({ file, line, message: `${target}: no file ${relative(root, destination)}` })
      continue
    }
    if (anchor === undefined || !destination.endsWith('.md') || statSync(destination).isDirectory()) continue
    if (!headingAnchors(readFileSync(destination, 'utf8')).has(decodeURIComponent(anchor).toLowerCase())) {
      problems.push({ file, line, message: `${target}: no heading with the anchor #${anchor} in ${relative(root, destination)}` })
    }
  }
  return problems
}
