/**
 * The name a model calls an MCP tool by: `server__tool`, made to fit
 * `^[A-Za-z0-9_-]{1,64}$` (what hearth and the model APIs accept): other
 * characters become `_`, and a longer name is cut and suffixed with a short
 * hash of the whole, so two long names stay apart.
 */

function shortHash(text: string): string {
  // FNV-1a, 32 bits: stable across processes, so a run recorded before a restart names the same tool.
  let hash = 0x811c9dc5
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}

/** The hearth name of tool `tool` of server `server`. */
export function hearthToolName(server: string, tool: string): string {
  const full = `${server}__${tool}`
  const safe = full.replace(/[^A-Za-z0-9_-]/g, '_')
  if (safe.length <= 64 && safe === full) return safe
  if (safe.length <= 64) return safe
  return `${safe.slice(0, 55)}_${shortHash(full)}`
}
