/**
 * The agents of the example server: `assistant@1`, with three tools: `add`,
 * `send_email`, which asks for confirmation before it "sends", and
 * `researcher`, the agent `researcher@1` as a tool (each call a child run);
 * `panel@1`, a team that asks `researcher@1` and `critic@1` at once and
 * combines their answers; and `report@1`, a workflow that researches a topic
 * with `researcher@1` (a child run), then summarises it (a step).
 */
import { agentTool, team, tool, workflow, type AgentDefinition } from 'hearth-runtime'
import { z } from 'zod'

/** `add({ a, b })` returns `a + b`. */
export const addTool = tool({
  name: 'add',
  description: 'Adds two numbers.',
  input: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
})

/** `send_email({ to, subject, body })` returns `{ sent: true, to }` once the user confirms. Nothing is sent. */
export const sendEmailTool = tool({
  name: 'send_email',
  description: 'Sends an email. The user confirms each one first.',
  input: z.object({ to: z.string(), subject: z.string(), body: z.string() }),
  needsConfirmation: true,
  execute: ({ to }) => ({ sent: true, to }),
})

/** `researcher@1`: no tools, the default route; the assistant hands it questions as child runs. */
export const researcherAgent: AgentDefinition = {
  key: 'researcher',
  version: 1,
  name: 'Researcher',
  instructions: 'You research the question you are given and answer it in a few sentences.',
}

/** `assistant@1`. */
export const assistantAgent: AgentDefinition = {
  key: 'assistant',
  version: 1,
  name: 'Assistant',
  instructions:
    'You are a helpful assistant. Use `add` for arithmetic. Use `send_email` only when the user asks to send an email. Hand questions that need research to `researcher`.',
  tools: [addTool, sendEmailTool, agentTool('researcher@1')],
}

/** `critic@1`: no tools; the panel's second voice. */
export const criticAgent: AgentDefinition = {
  key: 'critic',
  version: 1,
  name: 'Critic',
  instructions: 'You point out what is weak or missing in the request, in a few sentences.',
}

/** `panel@1`: researcher@1 and critic@1 answer every request at once (child runs), then the panel combines them. */
export const panelTeam: AgentDefinition = team({ key: 'panel', version: 1, name: 'Panel', mode: 'broadcast', members: ['researcher@1', 'critic@1'] })

/** `report@1`: research the topic (input) with researcher@1, then summarise; each a durable step. */
export const reportWorkflow: AgentDefinition = workflow({
  key: 'report',
  version: 1,
  name: 'Report',
  run: async (ctx, topic) => {
    const notes = await ctx.runAgent('researcher@1', topic)
    return ctx.step('summarise', () => `Report on ${topic}: ${String(notes).slice(0, 2000)}`)
  },
})

/** Every agent of the example server, the assistant first (the default). */
export const demoAgents: readonly AgentDefinition[] = [assistantAgent, researcherAgent, criticAgent, panelTeam, reportWorkflow]
