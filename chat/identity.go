package chat

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// A chatter is known by a session secret the server hands out in the
// welcome and the client sends back in later joins (the web page keeps it
// in localStorage). Others only ever see the public user id derived from
// it, so the secret cannot be read off the chat and a ban outlives
// reconnects and nickname changes without the server storing anyone who
// is not connected, banned or timed out.

const secretBytes = 16

func newSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validSecret accepts only what newSecret makes, so a client cannot pick
// an arbitrary (long or ambiguous) identity string.
func validSecret(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// userID is the public id of a session: stable for the life of the Hub.
func (h *Hub) userID(secret string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

// newMessageID returns a random message id; random rather than a counter
// so ids from before a restart never name a different message.
func newMessageID() string {
	b := make([]byte, 9)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
