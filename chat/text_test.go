package chat

import (
	"strings"
	"testing"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "hello", "hello"},
		{"trimmed", "  hi  ", "hi"},
		{"line breaks become spaces", "a\nb\r\nc\td", "a b  c d"},
		{"unicode line separators", "a\u2028b\u2029c\u0085d", "a b c d"},
		{"C0 and DEL stripped", "a\x00b\x07c\x1bd\x7f", "abcd"},
		{"C1 stripped", "a\u0080b\u009bc", "abc"},
		{"bidi overrides stripped", "x\u202Ecba\u202C\u202A\u202B\u202Dy", "xcbay"},
		{"bidi isolates stripped", "\u2066a\u2067b\u2068c\u2069", "abc"},
		{"bidi marks kept", "a\u200Fb\u200Ec", "a\u200Fb\u200Ec"},
		{"zero width kept in messages", "a\u200Bb", "a\u200Bb"},
		{"emoji sequences kept", "👩‍👩‍👧 ❤️", "👩‍👩‍👧 ❤️"},
		{"combining marks capped", "e" + strings.Repeat("\u0301", 10) + "x", "e" + strings.Repeat("\u0301", maxMarks) + "x"},
		{"vietnamese intact", "Việt Nam", "Việt Nam"},
		{"only controls", "\x01\x02\u202E", ""},
		{"html stays text", `<img src=x onerror="alert(1)">`, `<img src=x onerror="alert(1)">`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cleanText(tc.in); got != tc.want {
				t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCleanNick(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"bob", "bob"},
		{"  bob   the\tbuilder ", "bob the builder"},
		{"b\u200Bob", "bob"},
		{"\uFEFFbob\u00AD", "bob"},
		{"\u3164", ""}, // Hangul filler: an "invisible" nick
		{"\u202Eevil", "evil"},
		{"a\x00b", "ab"},
		{"zoë", "zoë"},
		{"👩‍💻", "👩‍💻"}, // the zero-width joiner stays
	} {
		if got := cleanNick(tc.in); got != tc.want {
			t.Errorf("cleanNick(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHuman(t *testing.T) {
	for secs, want := range map[int]string{
		5: "5 s", 60: "1 min", 90: "1 min 30 s", 300: "5 min", 3600: "1 h", 5400: "1 h 30 min",
		86400: "1 d", 90000: "1 d 1 h",
	} {
		if got := human(secs); got != want {
			t.Errorf("human(%d) = %q, want %q", secs, got, want)
		}
	}
}
