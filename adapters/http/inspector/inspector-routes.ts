/**
 * The inspector page (`createHttpHandler(runtime, { inspector: true })`):
 * `GET {basePath}/inspector`, and its script and style under
 * `{basePath}/inspector/`. They need no token and hold no data: the page
 * asks for the key and calls the API like any client. Every answer carries
 * a Content-Security-Policy that allows only the page's own script, style
 * and API.
 */
import { NotFoundError } from '../../../src/errors.js'
import type { RequestContext } from '../context.js'
import { inspectorScript, inspectorStyle } from './assets.js'

/** The Content-Security-Policy of the inspector's answers. */
export const inspectorPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const escapeAttribute = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')

/** The page's HTML for a handler mounted at `basePath`. */
export function inspectorHtml(basePath: string): string {
  const base = escapeAttribute(basePath)
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="hearth-base" content="${base}">`,
    '<title>hearth inspector</title>',
    `<link rel="stylesheet" href="${base}/inspector/app.css">`,
    `<script src="${base}/inspector/app.js" defer></script>`,
    '</head>',
    '<body></body>',
    '</html>',
    '',
  ].join('\n')
}

function answer(body: string, type: string, traceId: string): Response {
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': `${type}; charset=utf-8`,
      'Content-Security-Policy': inspectorPolicy,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
      'X-Trace-Id': traceId,
    },
  })
}

/** `GET {basePath}/inspector`: the page. */
export async function inspectorPage(context: RequestContext): Promise<Response> {
  return answer(inspectorHtml(context.settings.basePath), 'text/html', context.traceId)
}

/** `GET {basePath}/inspector/app.js` and `app.css`; any other name is `not_found.path`. */
export async function inspectorAsset(context: RequestContext): Promise<Response> {
  if (context.id === 'app.js') return answer(inspectorScript, 'text/javascript', context.traceId)
  if (context.id === 'app.css') return answer(inspectorStyle, 'text/css', context.traceId)
  throw new NotFoundError('not_found.path', `No route for ${context.url.pathname}`)
}

/** The bytes of the page, its script and its style together. */
export function inspectorBytes(): number {
  return Buffer.byteLength(inspectorHtml('')) + Buffer.byteLength(inspectorScript) + Buffer.byteLength(inspectorStyle)
}
