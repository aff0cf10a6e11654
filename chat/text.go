package chat

import (
	"strings"
	"unicode"
)

// maxMarks caps a run of combining marks on one character: enough for
// Vietnamese or pointed Hebrew, too few for "Zalgo" text that paints over
// the lines above and below.
const maxMarks = 4

// cleanText makes a message safe to store and show: line breaks and tabs
// become spaces; control characters and bidirectional overrides and
// isolates (which could reverse the rest of the chat line, e.g. the nick
// shown after it) are removed; leading and trailing spaces go.
func cleanText(s string) string {
	return strings.TrimSpace(clean(s, false))
}

// cleanNick is cleanText plus: invisible characters that would let two
// nicknames look the same are removed and runs of spaces become one.
func cleanNick(s string) string {
	return strings.Join(strings.Fields(clean(s, true)), " ")
}

// nickKey is what two nicknames are compared by.
func nickKey(nick string) string { return strings.ToLower(nick) }

func clean(s string, nick bool) string {
	var b strings.Builder
	b.Grow(len(s))
	marks := 0
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' ||
			r == 0x85 || r == 0x2028 || r == 0x2029:
			r = ' '
		case unicode.IsControl(r) || isBidiControl(r) || nick && isInvisible(r):
			continue
		}
		if unicode.In(r, unicode.Mn, unicode.Me) {
			if marks++; marks > maxMarks {
				continue
			}
		} else {
			marks = 0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isBidiControl reports the embedding, override and isolate controls
// (U+202A–U+202E, U+2066–U+2069). The marks (LRM, RLM, ALM) stay: they
// only affect neutral characters next to them and right-to-left writers
// need them.
func isBidiControl(r rune) bool {
	return 0x202A <= r && r <= 0x202E || 0x2066 <= r && r <= 0x2069
}

// isInvisible reports characters that render as nothing, so "bob" and
// "b\u200bob" cannot both be taken. Zero-width joiner and non-joiner stay:
// emoji sequences and Persian need them.
func isInvisible(r rune) bool {
	switch r {
	case 0x00AD, 0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x200B,
		0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x3164, 0xFEFF, 0xFFA0:
		return true
	}
	return false
}
