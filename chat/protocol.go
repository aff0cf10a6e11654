package chat

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/bcastdev/bcast/server/status"
)

// The wire protocol: one JSON object per text frame, {"type": ...}.
// docs/CHAT.md is its reference; keep the two in step.

// Client to server.
const (
	typeJoin = "join" // first frame: session, nick, admin_token (all optional)
	typeNick = "nick" // set or change the nickname
	typeSend = "send" // post a message
)

// Server to client.
const (
	typeWelcome = "welcome" // answer to join: identity, state, history
	typeMessage = "message"
	typeDelete  = "delete"
	typeClear   = "clear"
	typeState   = "state"   // chat on/off, slow mode
	typeNickSet = "nick"    // your nickname is now ...
	typeTimeout = "timeout" // you may not send for a while (seconds 0: lifted)
	typeBanned  = "banned"  // followed by close 1008
	typeError   = "error"
)

// Error codes of error frames.
const (
	codeBadRequest    = "bad_request"     // not a frame this server understands
	codeBadNick       = "bad_nick"        // empty or too long after cleaning
	codeNickTaken     = "nick_taken"      // another connected chatter has it
	codeNoNick        = "no_nick"         // send before a nickname was set
	codeBadMessage    = "bad_message"     // empty or too long after cleaning
	codeRateLimited   = "rate_limited"    // retry_after_seconds set
	codeSlowMode      = "slow_mode"       // retry_after_seconds set
	codeTimedOut      = "timed_out"       // retry_after_seconds set
	codeChatOff       = "chat_off"        // only moderators may write
	codeBadAdminToken = "bad_admin_token" // joined as a normal chatter
	codeTooManyConns  = "too_many_connections"
	codeTooManyRooms  = "too_many_rooms"
	codeFlooding      = "flooding" // kept sending while rate limited; closed
)

// clientMsg is any frame a client sends; fields not used by Type are ignored.
type clientMsg struct {
	Type       string `json:"type"`
	Session    string `json:"session,omitempty"`
	Nick       string `json:"nick,omitempty"`
	AdminToken string `json:"admin_token,omitempty"`
	Text       string `json:"text,omitempty"`
}

// decode parses a client frame. It refuses invalid UTF-8 (encoding/json
// would silently turn it into U+FFFD) and unknown types; cleaning the
// strings is left to the handlers, which know their limits.
func decode(b []byte) (clientMsg, error) {
	var m clientMsg
	if !utf8.Valid(b) {
		return m, fmt.Errorf("%w: frame is not valid UTF-8", ErrInvalid)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: frame is not a JSON object: %v", ErrInvalid, err)
	}
	switch m.Type {
	case typeJoin, typeNick, typeSend:
		return m, nil
	}
	return m, fmt.Errorf("%w: unknown frame type %q", ErrInvalid, abbrev(m.Type, 40))
}

type chatState struct {
	Enabled         bool `json:"enabled"`
	SlowModeSeconds int  `json:"slow_mode_seconds"`
}

type welcomeMsg struct {
	Type    string `json:"type"`
	User    string `json:"user"`    // public id, the one messages carry
	Session string `json:"session"` // secret: send it in the next join
	Nick    string `json:"nick"`    // "" until one is set
	Admin   bool   `json:"admin"`
	chatState
	TimeoutSeconds int                  `json:"timeout_seconds,omitempty"` // left of a timeout
	Limits         wireLimits           `json:"limits"`
	History        []status.ChatMessage `json:"history"` // oldest first
}

type wireLimits struct {
	NickMax    int `json:"nick_max"`    // characters
	MessageMax int `json:"message_max"` // characters
}

type stateMsg struct {
	Type string `json:"type"`
	chatState
}

type messageMsg struct {
	Type string `json:"type"`
	status.ChatMessage
}

type deleteMsg struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type typeOnly struct {
	Type string `json:"type"`
}

type nickMsg struct {
	Type string `json:"type"`
	Nick string `json:"nick"`
}

type timeoutMsg struct {
	Type    string    `json:"type"`
	Seconds int       `json:"seconds"` // left; 0 = lifted
	Until   time.Time `json:"until,omitzero"`
	Text    string    `json:"text"`
}

type bannedMsg struct {
	Type    string `json:"type"`
	Seconds int    `json:"seconds,omitempty"` // left; absent = until unbanned
	Text    string `json:"text"`
}

type errorMsg struct {
	Type       string `json:"type"`
	Code       string `json:"code"`
	Text       string `json:"text"`
	RetryAfter int    `json:"retry_after_seconds,omitempty"`
}

// encode marshals a server frame. The types above cannot fail to marshal.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("chat: encoding frame: " + err.Error())
	}
	return b
}

func errorFrame(code, text string, retry time.Duration) []byte {
	return encode(errorMsg{Type: typeError, Code: code, Text: text, RetryAfter: ceilSeconds(retry)})
}

// ceilSeconds rounds a wait up to whole seconds, so a client that waits
// that long is never refused again for the same reason.
func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}
