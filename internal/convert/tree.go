package convert

import (
	"strings"
)

// Node is one keepalived statement: a keyword, its arguments and, for a block, the
// statements inside its braces.
type Node struct {
	Key      string
	Args     []string
	Raw      string // the line's text after the keyword, for keywords that re-split it (scripts)
	Pos      Pos
	Block    bool
	Children []*Node
	Comments []string
}

// Arg is the i-th argument or "".
func (n *Node) Arg(i int) string {
	if i < len(n.Args) {
		return n.Args[i]
	}
	return ""
}

// Text is the statement as one line: keyword and arguments joined by blanks.
func (n *Node) Text() string {
	return strings.TrimSpace(n.Key + " " + strings.Join(n.Args, " "))
}

// maxDepth bounds block nesting (keepalived's deepest is four levels).
const maxDepth = 16

// tokenize splits a line keepalived's way: blanks separate words, a word starting with a
// double quote runs to the next double quote (quotes removed), and braces outside quotes
// are words of their own.
func tokenize(s string) (words []string, unterminated bool) {
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return words, false
		}
		switch c := s[i]; {
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return append(words, s[i+1:]), true
			}
			words = append(words, s[i+1:i+1+end])
			i += end + 2
		case c == '{' || c == '}':
			words = append(words, string(c))
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\"{}", rune(s[j])) {
				j++
			}
			words = append(words, s[i:j])
			i = j
		}
	}
}

// parse builds the statement tree from the preprocessed lines. Problems (unbalanced
// braces, unterminated quotes, too deep nesting) are refusals with a position.
func parse(lines []Line) ([]*Node, []Diag) {
	var diags []Diag
	root := &Node{Block: true}
	stack := []*Node{root}
	var openers []*Node
	for _, l := range lines {
		words, unterminated := tokenize(l.Text)
		if unterminated {
			diags = append(diags, Diag{Pos: l.Pos, Message: "unterminated double quote", Refused: true})
		}
		comments := l.Comments
		var cur *Node // the statement being built on this line
		rawFrom := 0  // byte offset in l.Text where the current statement's words start
		for wi, w := range words {
			top := stack[len(stack)-1]
			switch w {
			case "{":
				// Opens the block of the statement just written, on this line or the one
				// before ("keyword\n{").
				target := cur
				if target == nil && len(top.Children) > 0 {
					if last := top.Children[len(top.Children)-1]; !last.Block {
						target = last
					}
				}
				if target == nil || target.Block {
					diags = append(diags, Diag{Pos: l.Pos, Message: "'{' without a keyword before it", Refused: true})
					target = &Node{Key: "{", Pos: l.Pos}
					top.Children = append(top.Children, target)
				}
				if len(stack) > maxDepth {
					diags = append(diags, Diag{Pos: l.Pos, Message: "blocks nested too deeply", Refused: true})
					return root.Children, diags
				}
				target.Block = true
				stack = append(stack, target)
				openers = append(openers, target)
				cur = nil
			case "}":
				if len(stack) == 1 {
					diags = append(diags, Diag{Pos: l.Pos, Message: "'}' without a block to close", Refused: true})
				} else {
					stack = stack[:len(stack)-1]
					openers = openers[:len(openers)-1]
				}
				cur = nil
			default:
				if cur == nil {
					cur = &Node{Key: w, Pos: l.Pos, Comments: comments}
					comments = nil
					rawFrom = wordOffset(l.Text, wi, words)
					cur.Raw = rawAfterKeyword(l.Text[rawFrom:])
					top.Children = append(top.Children, cur)
				} else {
					cur.Args = append(cur.Args, w)
				}
			}
		}
	}
	for _, o := range openers {
		diags = append(diags, Diag{Pos: o.Pos, Message: "'{' of " + o.Key + " is never closed", Refused: true})
	}
	return root.Children, diags
}

// wordOffset finds where the wi-th word starts in text (words as tokenize returned them).
func wordOffset(text string, wi int, words []string) int {
	off := 0
	for k := 0; k <= wi; k++ {
		for off < len(text) && (text[off] == ' ' || text[off] == '\t') {
			off++
		}
		if k == wi {
			return off
		}
		w := words[k]
		if off < len(text) && text[off] == '"' {
			off += len(w) + 2
		} else {
			off += len(w)
		}
	}
	return min(off, len(text))
}

// rawAfterKeyword is the rest of a statement after its first word, up to a brace that
// is outside quotes.
func rawAfterKeyword(s string) string {
	if s != "" && s[0] == '"' {
		if e := strings.IndexByte(s[1:], '"'); e >= 0 {
			s = s[e+2:]
		} else {
			return ""
		}
	} else {
		e := strings.IndexAny(s, " \t{}\"")
		if e < 0 {
			return ""
		}
		s = s[e:]
	}
	quote := byte(0)
	end := len(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '{' || c == '}':
			end = i
			i = len(s)
		}
	}
	return strings.TrimSpace(s[:end])
}

// splitQuoted splits a script line keepalived's way before taking the command: blanks
// separate words, '...' and "..." group (quotes removed, adjacent text joined), no escapes.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	in := false
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
			in = true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}
