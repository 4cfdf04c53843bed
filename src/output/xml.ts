/**
 * Escaping for XML 1.0 text and attributes. Service messages can carry anything — markup, control characters, CRLF —
 * and one stray byte makes the whole JUnit file unreadable to a test reporter, so characters XML cannot hold are
 * dropped and line ends are normalised.
 */

// Everything outside XML 1.0's Char production (tab, LF, CR, and the printable ranges).
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function clean(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(NOT_XML_CHAR, '');
}

/** Text content: `&`, `<` and `>` (the last so `]]>` can never appear). */
export function xmlText(s: string): string {
  return clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute values in double quotes; line ends as character references, since parsers turn raw ones into spaces. */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}
