// Package script runs user commands (VRRP notify hooks, health-check scripts) the way
// keepalived does: argv split from one string, no shell, a timeout, output logged.
package script

import (
	"errors"
	"fmt"
	"strings"
)

// ErrEmpty is returned by Split for a command with no words.
var ErrEmpty = errors.New("empty command")

// Split turns a command line into argv without a shell, as keepalived does: words are
// separated by blanks; '...' is taken literally; "..." allows \" and \\ inside; a backslash
// outside quotes escapes the next character. Nothing is expanded (no $VAR, no globs), so a
// config can never run more than the one program it names.
func Split(cmd string) ([]string, error) {
	var (
		args    []string
		cur     strings.Builder
		inWord  bool
		quote   rune // 0, '\'' or '"'
		quoteAt int
	)
	runes := []rune(cmd)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch {
			case r == '"':
				quote = 0
			case r == '\\' && i+1 < len(runes) && (runes[i+1] == '"' || runes[i+1] == '\\'):
				i++
				cur.WriteRune(runes[i])
			default:
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, quoteAt, inWord = r, i, true
		case r == '\\':
			if i+1 >= len(runes) {
				return nil, fmt.Errorf("trailing backslash in %q", cmd)
			}
			i++
			cur.WriteRune(runes[i])
			inWord = true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote at column %d in %q", quote, quoteAt+1, cmd)
	}
	if inWord {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, ErrEmpty
	}
	return args, nil
}
