package chat

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want clientMsg
		ok   bool
	}{
		{"join", `{"type":"join","session":"s","nick":"bob","admin_token":"t"}`, clientMsg{Type: "join", Session: "s", Nick: "bob", AdminToken: "t"}, true},
		{"send", `{"type":"send","text":"hi"}`, clientMsg{Type: "send", Text: "hi"}, true},
		{"nick", `{"type":"nick","nick":"x"}`, clientMsg{Type: "nick", Nick: "x"}, true},
		{"unknown fields ignored", `{"type":"send","text":"hi","extra":[1,2]}`, clientMsg{Type: "send", Text: "hi"}, true},
		{"unknown type", `{"type":"shout"}`, clientMsg{}, false},
		{"no type", `{"text":"hi"}`, clientMsg{}, false},
		{"null", `null`, clientMsg{}, false},
		{"array", `[]`, clientMsg{}, false},
		{"trailing data", `{"type":"send"} {}`, clientMsg{}, false},
		{"wrong field type", `{"type":"send","text":5}`, clientMsg{}, false},
		{"invalid utf-8", "{\"type\":\"send\",\"text\":\"\xff\"}", clientMsg{}, false},
		{"empty", ``, clientMsg{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decode([]byte(tc.in))
			if tc.ok != (err == nil) {
				t.Fatalf("decode(%q) error %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %v does not wrap ErrInvalid", err)
				}
				return
			}
			if got != tc.want {
				t.Errorf("decode(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzDecode: the decoder never panics, accepts only known types, and what
// it accepts survives a round trip.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"join","session":"abc","nick":"bob","admin_token":"x"}`))
	f.Add([]byte(`{"type":"send","text":"hello"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(b)
		if err != nil {
			return
		}
		switch m.Type {
		case typeJoin, typeNick, typeSend:
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := decode(out)
		if err != nil || m2 != m {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", m, out, m2, err)
		}
		// Whatever text got in, the cleaned versions are safe to show.
		for _, s := range []string{cleanText(m.Text), cleanNick(m.Nick)} {
			for _, r := range s {
				if r < 0x20 || 0x7f <= r && r < 0xa0 || isBidiControl(r) {
					t.Fatalf("clean left %U in %q", r, s)
				}
			}
		}
	})
}
