// How deep a JSON text nests, found without recursion: JSON.parse builds any depth, but
// JSON.stringify (every answer, log record and snapshot) recurses on the JS stack and
// throws "Maximum call stack size exceeded" a few thousand levels down.

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d

/**
 * The position of the first `{` or `[` that opens level `maxDepth + 1`, or -1 when the text
 * stays within `maxDepth` levels. Brackets inside strings do not count. Invalid JSON is left
 * to JSON.parse: the scan only promises not to miss a level that valid JSON would have.
 */
export function depthExceededAt(text: string, maxDepth: number): number {
  if (fewOpeners(text, maxDepth)) return -1
  let depth = 0
  const length = text.length
  for (let i = 0; i < length; i++) {
    const ch = text.charCodeAt(i)
    if (ch === QUOTE) {
      i = closingQuote(text, i)
      if (i === -1) return -1
    } else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      if (++depth > maxDepth) return i
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      depth--
    }
  }
  return -1
}

/**
 * True when the whole text holds at most `maxDepth` of `{` and `[` (strings included), so it
 * cannot nest deeper: found with the native indexOf, which spares a text of numbers or long
 * strings the character loop. A text with more openers stops counting early and is scanned.
 */
function fewOpeners(text: string, maxDepth: number): boolean {
  let count = 0
  for (const opener of ['{', '[']) {
    for (let at = text.indexOf(opener); at !== -1; at = text.indexOf(opener, at + 1)) if (++count > maxDepth) return false
  }
  return true
}

/** The index of the quote that closes the string opened at `open`; -1 when it never closes. */
function closingQuote(text: string, open: number): number {
  let at = open
  for (;;) {
    at = text.indexOf('"', at + 1)
    if (at === -1) return -1
    // A quote preceded by an odd number of backslashes is escaped.
    let backslashes = 0
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return at
  }
}
