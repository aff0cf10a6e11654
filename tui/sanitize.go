package tui

import (
	"strings"
	"unicode"
)

// clean makes text typed by the public (chat nicks and messages, and event
// texts quoting them) safe to print on the operator's terminal: control
// characters are dropped, so no escape sequence can form, line breaks and
// tabs become spaces so one message stays on one line, and bidirectional
// overrides are dropped so a message cannot reorder the rest of its line.
func clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r) || isBidiControl(r) || r == unicode.ReplacementChar:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isClean is the allocation-free fast path for the usual printable text.
func isClean(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && (unicode.IsControl(r) || isBidiControl(r) || r == unicode.ReplacementChar)) {
			return false
		}
	}
	return true
}

func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}
