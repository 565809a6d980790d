package config

import (
	"bytes"
)

// A configuration is parsed one top-level item (a block, with the comments and blank lines
// before it) at a time. HCL's parser holds a token for every word of the whole file in one
// slice it grows as it goes; on a table the size of keepalived's largest published
// configuration (2.2 MB, 500,000 tokens) that growth and the garbage it leaves cost most of
// a load. Items parsed separately stay small, and a Loader keeps each item's decoded form
// so that loading the file again after an edit parses only the items whose text changed.
//
// The split only has to be right for valid files: an item that does not parse on its own
// (a split inside a construct the splitter does not know) sends its whole file back to
// the one-piece parse, which reports problems exactly as before.

// topItem is one top-level item of a file: src[start:end], starting at the beginning of line
// line (1-based).
type topItem struct {
	start, end int
	line       int
}

// splitItems cuts src at the line ends where nothing is open: no bracket, string, comment or
// heredoc. A cut is made only after a line with something other than comments and blank
// space, so the comments above a block belong to it.
func splitItems(src []byte) []topItem {
	const inString = 0 // stack entry for a quoted string; anything else is a bracket
	var stack []byte
	var items []topItem
	start, line, content := 0, 1, false
	cut := func(end int) {
		items = append(items, topItem{start: start, end: end, line: line})
		line += bytes.Count(src[start:end], []byte{'\n'})
		start, content = end, false
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if len(stack) > 0 && stack[len(stack)-1] == inString {
			switch {
			case c == '\\':
				i++
			case c == '"' || c == '\n':
				stack = stack[:len(stack)-1]
				if c == '\n' {
					i-- // an unterminated string ends at the line end, which may be a cut
				}
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{' && (i == 0 || src[i-1] != c):
				i++
				stack = append(stack, '{')
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r':
		case '\n':
			if len(stack) == 0 && content {
				cut(i + 1)
			}
		case '#':
			i = skipTo(src, i, "\n") - 1
		case '/':
			switch {
			case i+1 < len(src) && src[i+1] == '/':
				i = skipTo(src, i, "\n") - 1
			case i+1 < len(src) && src[i+1] == '*':
				i = skipPast(src, i+2, "*/") - 1
			default:
				content = true
			}
		case '"':
			content = true
			stack = append(stack, inString)
		case '{', '[', '(':
			content = true
			stack = append(stack, c)
		case '}', ']', ')':
			content = true
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case '<':
			content = true
			if end := heredocEnd(src, i); end > 0 {
				i = end - 1
			}
		default:
			content = true
		}
	}
	if start < len(src) {
		cut(len(src))
	}
	return items
}

// skipTo returns the offset of the first end at or after i (len(src) if none).
func skipTo(src []byte, i int, end string) int {
	j := bytes.Index(src[i:], []byte(end))
	if j < 0 {
		return len(src)
	}
	return i + j
}

// heredocEnd returns, for a heredoc (<<ID or <<-ID and a line end) opening at i, the offset
// of the line end after its closing ID line, or 0 when there is none at i.
func heredocEnd(src []byte, i int) int {
	j := i + 2
	if j > len(src) || !bytes.HasPrefix(src[i:], []byte("<<")) {
		return 0
	}
	if j < len(src) && src[j] == '-' {
		j++
	}
	id := j
	for j < len(src) && (src[j] == '_' || src[j] == '-' || src[j] >= '0' && src[j] <= '9' || src[j]|0x20 >= 'a' && src[j]|0x20 <= 'z') {
		j++
	}
	if j == id || j >= len(src) || src[j] != '\n' && src[j] != '\r' {
		return 0
	}
	marker := src[id:j]
	for j < len(src) {
		nl := skipTo(src, j, "\n")
		if nl == len(src) {
			return 0
		}
		j = nl + 1
		end := skipTo(src, j, "\n")
		if bytes.Equal(bytes.TrimSpace(src[j:end]), marker) {
			return end
		}
	}
	return 0
}
