package forward

import (
	"sync"
	"time"
)

// KeyframeRequester coalesces keyframe requests (PLI, RFC 4585 §6.3.1) from
// many viewers into at most one request per interval towards the streamer. A
// request that arrives inside the interval is not dropped: it is deferred to
// the end of the interval, unless a keyframe arrives first and satisfies it.
type KeyframeRequester struct {
	interval time.Duration
	send     func()
	now      func() time.Time

	mu        sync.Mutex
	last      time.Time   // when the last request went upstream
	waiting   time.Time   // the oldest request sent since the last keyframe, zero when none
	pending   *time.Timer // deferred request, nil when none
	requested uint64      // requests received
	sent      uint64      // requests sent upstream
}

// NewKeyframeRequester calls send (which writes the PLI) at most once per interval.
func NewKeyframeRequester(interval time.Duration, send func()) *KeyframeRequester {
	return &KeyframeRequester{interval: interval, send: send, now: time.Now}
}

// Request asks for a keyframe.
func (k *KeyframeRequester) Request() {
	k.mu.Lock()
	k.requested++
	now := k.now()
	if wait := k.last.Add(k.interval).Sub(now); wait > 0 {
		if k.pending == nil {
			k.pending = time.AfterFunc(wait, k.fire)
		}
		k.mu.Unlock()
		return
	}
	k.last = now
	if k.waiting.IsZero() {
		k.waiting = now
	}
	k.sent++
	k.mu.Unlock()
	k.send()
}

func (k *KeyframeRequester) fire() {
	k.mu.Lock()
	if k.pending == nil { // satisfied by a keyframe meanwhile
		k.mu.Unlock()
		return
	}
	k.pending = nil
	k.last = k.now()
	if k.waiting.IsZero() {
		k.waiting = k.last
	}
	k.sent++
	k.mu.Unlock()
	k.send()
}

// KeyframeArrived cancels a deferred request: every viewer waiting for it is
// served by this keyframe. It returns how long ago the oldest request
// answered by it went upstream, when one did.
func (k *KeyframeRequester) KeyframeArrived() (time.Duration, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pending != nil {
		k.pending.Stop()
		k.pending = nil
	}
	if k.waiting.IsZero() {
		return 0, false
	}
	wait := k.now().Sub(k.waiting)
	k.waiting = time.Time{}
	return wait, true
}

// Stop cancels a deferred request for good.
func (k *KeyframeRequester) Stop() { k.KeyframeArrived() }

// Counts returns requests received and requests sent upstream; the
// difference is what coalescing saved the streamer.
func (k *KeyframeRequester) Counts() (requested, sent uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.requested, k.sent
}
