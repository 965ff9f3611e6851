/**
 * The inspector page: plain DOM, no library. It asks for the API key once
 * (kept in sessionStorage), calls only the public API with the bearer
 * header, streams a run's events with fetch (never a token in a URL) and
 * resumes with `after_seq`. Every text it shows goes through text nodes.
 * Compiled by tsc into the string the HTTP adapter serves (see
 * scripts/build-inspector.ts).
 */

interface Thread {
  id: string
  user_id: string | null
  title: string | null
  type: string
  updated_at: string
}

interface RunItem {
  run_id: string
  status: string
  persona_id: string
  parent_run_id: string | null
  created_at: string
}

interface PendingRequest {
  kind: 'tool_confirmation' | 'input'
  tool_call_id: string
  tool: string
  arguments: unknown
  prompt: string
  run_id?: string
}

interface RunDetails extends RunItem {
  input: string
  model: string
  duration_ms: number | null
  total_cost_usd: number
  cache_hit_rate: number
  metrics: { input_tokens: number; output_tokens: number }
  pending_input: PendingRequest[]
  error: { code: string; message: string } | null
}

interface WireEvent {
  run_id: string
  seq: number
  type: string
  data: Record<string, unknown>
  created_at: string
}

const base = document.querySelector('meta[name="hearth-base"]')?.getAttribute('content') ?? ''
const keyName = 'hearth-inspector-key'
const terminal = new Set(['run.completed', 'run.failed', 'run.cancelled'])

/** An element with a class and children (strings become text nodes). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (className !== '') element.className = className
  for (const child of children) element.append(typeof child === 'string' ? document.createTextNode(child) : child)
  return element
}

function byId<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T
}

function headers(json = false): Record<string, string> {
  const key = sessionStorage.getItem(keyName) ?? ''
  const out: Record<string, string> = key === '' ? {} : { Authorization: `Bearer ${key}` }
  if (json) out['Content-Type'] = 'application/json'
  return out
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: headers(body !== undefined) }
  if (body !== undefined) init.body = JSON.stringify(body)
  const response = await fetch(`${base}${path}`, init)
  if (response.status === 401) {
    showKeyForm('The key was refused.')
    throw new Error('unauthorized')
  }
  const text = await response.text()
  const value: unknown = text === '' ? undefined : JSON.parse(text)
  if (!response.ok) throw new Error(((value ?? {}) as { message?: string }).message ?? `HTTP ${response.status}`)
  return value as T
}

function notice(text: string): void {
  byId('notice').textContent = text
}

// ---- the key ----

function showKeyForm(message = ''): void {
  byId('key-message').textContent = message
  byId('key-dialog').hidden = false
  byId<HTMLInputElement>('key-input').focus()
}

function keyForm(): HTMLElement {
  const input = el('input')
  input.id = 'key-input'
  input.type = 'password'
  input.autocomplete = 'off'
  input.placeholder = 'API key (empty when the server has none)'
  const button = el('button', '', 'Open')
  button.id = 'key-submit'
  button.type = 'submit'
  const form = el('form', 'key-form', el('h2', '', 'hearth inspector'), el('p', 'muted', 'The key stays in this tab (sessionStorage).'), input, button, el('p', 'error'))
  ;(form.lastChild as HTMLElement).id = 'key-message'
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    sessionStorage.setItem(keyName, input.value)
    byId('key-dialog').hidden = true
    void start()
  })
  const dialog = el('div', 'key-dialog', form)
  dialog.id = 'key-dialog'
  dialog.hidden = true
  return dialog
}

// ---- threads and runs ----

let selectedThread: string | undefined
let selectedRun: string | undefined
let agents: { id: string; name: string; kind: string }[] = []

async function loadThreads(): Promise<void> {
  const threads = await api<Thread[]>('GET', '/v1/threads?limit=50')
  const list = byId('threads')
  list.replaceChildren()
  for (const thread of threads) {
    const item = el('li', thread.id === selectedThread ? 'thread selected' : 'thread', el('span', 'title', thread.title ?? thread.id), el('span', 'muted', `${thread.user_id ?? 'no user'} · ${thread.updated_at.slice(0, 19).replace('T', ' ')}`))
    item.dataset.threadId = thread.id
    item.addEventListener('click', () => void selectThread(thread.id))
    list.append(item)
  }
}

async function selectThread(threadId: string): Promise<void> {
  selectedThread = threadId
  await loadThreads()
  await loadRuns()
}

function chip(status: string): HTMLElement {
  return el('span', `chip ${status}`, status)
}

async function loadRuns(): Promise<void> {
  const list = byId('runs')
  list.replaceChildren()
  if (selectedThread === undefined) return
  const filter = byId<HTMLSelectElement>('status-filter').value
  const runs = await api<RunItem[]>('GET', `/v1/threads/${encodeURIComponent(selectedThread)}/runs?limit=100${filter === '' ? '' : `&status=${filter}`}`)
  // A tree by parent_run_id: children under their parent when it is listed, oldest first.
  const ids = new Set(runs.map((run) => run.run_id))
  const children = new Map<string, RunItem[]>()
  for (const run of [...runs].reverse()) {
    const parent = run.parent_run_id !== null && ids.has(run.parent_run_id) ? run.parent_run_id : ''
    children.set(parent, [...(children.get(parent) ?? []), run])
  }
  const add = (run: RunItem, depth: number): void => {
    const item = el('li', run.run_id === selectedRun ? 'run selected' : 'run', chip(run.status), el('span', '', ` ${run.persona_id}`), el('span', 'muted', ` ${run.run_id.slice(-6)}`))
    item.style.paddingLeft = `${0.5 + depth * 1.2}rem`
    item.dataset.runId = run.run_id
    item.addEventListener('click', () => void openRun(run.run_id))
    list.append(item)
    for (const child of children.get(run.run_id) ?? []) add(child, depth + 1)
  }
  for (const run of (children.get('') ?? []).reverse()) add(run, 0)
}

// ---- one run ----

let following: AbortController | undefined
let seen = new Set<number>()
let lastSeq = 0
/** The message block deltas go into, and its reasoning. */
let current: { text: HTMLElement; reasoning: HTMLElement | undefined } | undefined
const deltas: { seq: number; node: HTMLElement }[] = []
const toolCards = new Map<string, HTMLElement>()

function stat(label: string, value: string): HTMLElement {
  return el('div', 'stat', el('span', 'muted', label), el('strong', '', value))
}

async function refreshDetails(runId: string): Promise<RunDetails | undefined> {
  const run = await api<RunDetails>('GET', `/v1/runs/${encodeURIComponent(runId)}`)
  if (runId !== selectedRun) return undefined
  byId('run-stats').replaceChildren(
    chip(run.status),
    stat('agent', run.persona_id),
    stat('model', run.model),
    stat('duration', run.duration_ms === null ? '-' : `${(run.duration_ms / 1000).toFixed(2)} s`),
    stat('tokens in', String(run.metrics.input_tokens)),
    stat('tokens out', String(run.metrics.output_tokens)),
    stat('cost', `$${run.total_cost_usd.toFixed(6)}`),
    stat('cache hit', `${(run.cache_hit_rate * 100).toFixed(0)}%`),
  )
  byId<HTMLButtonElement>('cancel').disabled = terminal.has(`run.${run.status}`)
  if (run.error !== null) notice(`${run.error.code}: ${run.error.message}`)
  renderPending(runId, run.pending_input)
  return run
}

function renderPending(runId: string, requests: PendingRequest[]): void {
  const panel = byId('pending')
  panel.replaceChildren()
  panel.hidden = requests.length === 0
  for (const request of requests) {
    const answer = el('input')
    answer.placeholder = request.kind === 'input' ? 'Your answer' : 'A note for the model (optional)'
    const send = (approved: boolean | undefined): void => {
      const body: Record<string, unknown> = { content: answer.value === '' ? (approved === false ? 'denied' : 'approve') : answer.value, tool_call_id: request.tool_call_id }
      if (approved !== undefined) body.approved = approved
      void api('POST', `/v1/runs/${encodeURIComponent(request.run_id ?? runId)}/input`, body).then(() => refreshDetails(runId), (error: unknown) => notice(String(error)))
    }
    const approve = el('button', 'approve', request.kind === 'input' ? 'Answer' : 'Approve')
    approve.addEventListener('click', () => send(request.kind === 'input' ? undefined : true))
    const deny = el('button', 'deny', 'Deny')
    deny.addEventListener('click', () => send(false))
    panel.append(el('div', 'request', el('strong', '', request.kind === 'input' ? 'Input asked' : `Approve ${request.tool}?`), el('p', '', request.prompt), el('pre', '', JSON.stringify(request.arguments, null, 2)), answer, approve, deny))
  }
}

function messageBlock(): { text: HTMLElement; reasoning: HTMLElement | undefined } {
  const text = el('div', 'text')
  byId('timeline').append(el('div', 'message', el('span', 'role', 'assistant'), text))
  return { text, reasoning: undefined }
}

function onEvent(event: WireEvent): void {
  if (seen.has(event.seq)) return
  seen.add(event.seq)
  lastSeq = Math.max(lastSeq, event.seq)
  const raw = el('details', 'raw', el('summary', '', `${event.seq} ${event.type}`), el('pre', '', JSON.stringify(event, null, 2)))
  raw.dataset.seq = String(event.seq)
  byId('events').append(raw)
  const data = event.data
  switch (event.type) {
    case 'message.delta': {
      current ??= messageBlock()
      const piece = el('span', '', String(data.content))
      piece.dataset.seq = String(event.seq)
      if (data.channel === 'reasoning') {
        if (current.reasoning === undefined) {
          current.reasoning = el('div', 'reasoning-text')
          current.text.before(el('details', 'reasoning', el('summary', '', 'reasoning'), current.reasoning))
        }
        current.reasoning.append(piece)
      } else current.text.append(piece)
      deltas.push({ seq: event.seq, node: piece })
      return
    }
    case 'message.completed':
      current = undefined
      return
    case 'run.resumed':
    case 'model.retry':
    case 'model.fallback': {
      // The deltas after discard_after_seq were void: greyed, and the next ones start a new message.
      const after = Number(data.discard_after_seq)
      for (const delta of deltas) if (delta.seq > after) delta.node.classList.add('void')
      current = undefined
      byId('timeline').append(el('div', 'note', `${event.type} ${event.type === 'run.resumed' ? String(data.reason) : String((data.error as { code?: string } | undefined)?.code ?? '')}`))
      return
    }
    case 'tool.call': {
      const card = el('div', 'tool-card', el('strong', '', String(data.name)), el('pre', '', JSON.stringify(data.arguments, null, 2)), el('div', 'result muted', data.requires_confirmation === true ? 'waiting for approval…' : 'running…'))
      card.dataset.toolCallId = String(data.tool_call_id)
      toolCards.set(String(data.tool_call_id), card)
      byId('timeline').append(card)
      return
    }
    case 'tool.result': {
      const card = toolCards.get(String(data.tool_call_id))
      const result = card?.querySelector('.result')
      if (result !== null && result !== undefined) {
        result.className = data.is_error === true ? 'result error' : 'result'
        result.textContent = typeof data.output === 'string' ? data.output : JSON.stringify(data.output)
      }
      return
    }
    case 'run.waiting_for_input':
    case 'run.input_received':
    case 'run.started':
      void refreshDetails(event.run_id)
      return
    default:
      if (terminal.has(event.type)) {
        byId('timeline').append(el('div', `note end ${event.type.slice(4)}`, event.type))
        void refreshDetails(event.run_id).then(() => loadRuns())
      } else if (event.type.startsWith('memory.') || event.type.startsWith('subrun.') || event.type === 'agent.handoff') {
        byId('timeline').append(el('div', 'note', event.type))
      }
  }
}

/** Reads the run's events after `lastSeq` until its end, reconnecting with after_seq when the stream drops. */
async function follow(runId: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const response = await fetch(`${base}/v1/runs/${encodeURIComponent(runId)}/events?after_seq=${lastSeq}`, { headers: headers(), signal })
      if (response.status === 204 || response.body === null) return
      if (!response.ok) throw new Error(`HTTP ${response.status}`)
      const reader = response.body.getReader()
      const decoder = new TextDecoder()
      let buffer = ''
      let ended = false
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = frame.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n')
          if (data !== '') {
            const event = JSON.parse(data) as WireEvent
            if (runId === selectedRun) onEvent(event)
            if (terminal.has(event.type)) ended = true
          }
          end = buffer.indexOf('\n\n')
        }
      }
      if (ended) return
    } catch (error) {
      if (signal.aborted) return
      notice(`The stream dropped (${String(error)}); resuming after seq ${lastSeq}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

async function openRun(runId: string): Promise<void> {
  following?.abort()
  selectedRun = runId
  seen = new Set()
  lastSeq = 0
  current = undefined
  deltas.length = 0
  toolCards.clear()
  byId('timeline').replaceChildren()
  byId('events').replaceChildren()
  byId('run-view').hidden = false
  byId('run-title').textContent = runId
  notice('')
  history.replaceState(null, '', `#${runId}`)
  const run = await refreshDetails(runId)
  if (run !== undefined && run.input !== '') byId('timeline').prepend(el('div', 'message user', el('span', 'role', 'user'), el('div', 'text', run.input)))
  await loadRuns()
  const controller = (following = new AbortController())
  void follow(runId, controller.signal)
}

// ---- the composer ----

async function loadCatalog(): Promise<void> {
  agents = await api<{ id: string; name: string; kind: string }[]>('GET', '/v1/agents')
  const routes = await api<{ id: string; model: string | null }[]>('GET', '/v1/routes')
  const agentSelect = byId<HTMLSelectElement>('agent')
  agentSelect.replaceChildren(el('option', '', '(the thread’s agent)'), ...agents.map((agent) => Object.assign(el('option', '', `${agent.id} (${agent.kind})`), { value: agent.id })))
  ;(agentSelect.firstChild as HTMLOptionElement).value = ''
  const routeSelect = byId<HTMLSelectElement>('route')
  routeSelect.replaceChildren(el('option', '', '(the agent’s route)'), ...routes.map((route) => Object.assign(el('option', '', `${route.id} · ${route.model ?? ''}`), { value: route.id })))
  ;(routeSelect.firstChild as HTMLOptionElement).value = ''
}

async function startRun(): Promise<void> {
  const input = byId<HTMLTextAreaElement>('input')
  if (input.value.trim() === '') return
  if (selectedThread === undefined) selectedThread = (await api<Thread>('POST', '/v1/threads', {})).id
  const body: Record<string, unknown> = { input: input.value, multitask: byId<HTMLSelectElement>('multitask').value }
  const agent = byId<HTMLSelectElement>('agent').value
  const route = byId<HTMLSelectElement>('route').value
  if (agent !== '') body.persona_id = agent
  if (route !== '') body.route_id = route
  const created = await api<{ run_id: string }>('POST', `/v1/threads/${encodeURIComponent(selectedThread)}/runs`, body)
  input.value = ''
  await loadThreads()
  await openRun(created.run_id)
}

// ---- the page ----

function layout(): void {
  const filter = el('select', '', ...['', 'queued', 'running', 'waiting_for_input', 'completed', 'failed', 'cancelled'].map((status) => Object.assign(el('option', '', status === '' ? 'all statuses' : status), { value: status })))
  filter.id = 'status-filter'
  filter.addEventListener('change', () => void loadRuns())
  const threads = el('ul', 'list')
  threads.id = 'threads'
  const runs = el('ul', 'list')
  runs.id = 'runs'
  const newThread = el('button', '', 'New thread')
  newThread.addEventListener('click', () => {
    selectedThread = undefined
    void loadThreads().then(loadRuns)
  })
  const cancel = el('button', 'deny', 'Cancel run')
  cancel.id = 'cancel'
  cancel.addEventListener('click', () => {
    if (selectedRun !== undefined) void api('POST', `/v1/runs/${encodeURIComponent(selectedRun)}:cancel`, {}).catch((error: unknown) => notice(String(error)))
  })
  const ids = (element: HTMLElement, id: string): HTMLElement => Object.assign(element, { id })
  const runView = el(
    'section',
    'run-view',
    el('h2', '', 'Run ', ids(el('span', 'muted'), 'run-title')),
    ids(el('div', 'stats'), 'run-stats'),
    cancel,
    ids(el('div', 'pending'), 'pending'),
    ids(el('div', 'timeline'), 'timeline'),
    el('details', 'events', el('summary', '', 'Events (raw JSON)'), ids(el('div'), 'events')),
  )
  runView.id = 'run-view'
  runView.hidden = true
  const multitask = ids(el('select', '', ...['enqueue', 'reject', 'interrupt'].map((mode) => Object.assign(el('option', '', mode), { value: mode }))), 'multitask')
  const input = ids(el('textarea'), 'input') as HTMLTextAreaElement
  input.placeholder = 'Message'
  const send = ids(el('button', 'approve', 'Start run'), 'start')
  send.addEventListener('click', () => void startRun().catch((error: unknown) => notice(String(error))))
  const composer = el('div', 'composer', ids(el('select'), 'agent'), ids(el('select'), 'route'), multitask, input, send)
  document.body.replaceChildren(
    el('header', '', el('strong', '', 'hearth inspector'), ids(el('span', 'notice'), 'notice')),
    el('main', '', el('aside', '', el('div', 'row', el('h3', '', 'Threads'), newThread), threads, el('div', 'row', el('h3', '', 'Runs'), filter), runs), el('section', 'right', runView, composer)),
    keyForm(),
  )
}

async function start(): Promise<void> {
  try {
    await loadCatalog()
    await loadThreads()
    const runId = location.hash.slice(1)
    if (runId.startsWith('run_')) {
      const run = await api<RunDetails & { thread_id: string }>('GET', `/v1/runs/${encodeURIComponent(runId)}`)
      selectedThread = run.thread_id
      await loadThreads()
      await openRun(runId)
    }
  } catch (error) {
    if (String(error) !== 'Error: unauthorized') notice(String(error))
  }
}

layout()
if (sessionStorage.getItem(keyName) === null) showKeyForm()
else void start()
