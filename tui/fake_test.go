package tui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/bcastdev/bcast/server/status"
	"github.com/charmbracelet/colorprofile"
)

// fakeBackend serves a fixed snapshot and records the actions it is asked
// to apply.
type fakeBackend struct {
	mu      sync.Mutex
	snap    status.Snapshot
	err     error
	events  chan status.Event
	actions []status.Action
	doErr   error
}

func newFakeBackend(s status.Snapshot) *fakeBackend {
	return &fakeBackend{snap: s, events: make(chan status.Event, 16)}
}

func (f *fakeBackend) Snapshot(context.Context) (status.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap, f.err
}

func (f *fakeBackend) Events() <-chan status.Event { return f.events }

func (f *fakeBackend) Do(_ context.Context, a status.Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, a)
	return f.doErr
}

func (f *fakeBackend) done() []status.Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]status.Action(nil), f.actions...)
}

// t0 is the fixture's "now": every time in the fixture is relative to it, so
// uptimes and ages render the same on every run.
var t0 = time.Date(2025, 3, 14, 20, 30, 0, 0, time.UTC)

// fixture is a deterministic snapshot at t0+tick seconds: a live stream
// "main" with twelve viewers and a busy chat, and an offline stream
// "backup" with two waiting viewers. tick varies the bitrates so that
// sparklines have a shape.
func fixture(tick int) status.Snapshot {
	now := t0.Add(time.Duration(tick) * time.Second)
	wave := []int64{0, 3, 5, 2, 7, 4, 6, 1, 5, 3}[(tick%10+10)%10]
	viewers := make([]status.Viewer, 0, 12)
	states := []string{"connected", "connected", "connected", "checking", "connected", "connected",
		"connected", "connected", "disconnected", "connected", "connected", "connected"}
	for i := range 12 {
		v := status.Viewer{
			ID:          fmt.Sprintf("v%02d-%x", i+1, 0xa5a5a5+i*7919),
			Num:         i + 1,
			Remote:      fmt.Sprintf("203.0.113.%d:%d", 10+i*17, 50000+i*311),
			Since:       now.Add(-time.Duration(60+i*397) * time.Second),
			State:       states[i],
			VideoCodec:  "VP8",
			AudioCodec:  "opus",
			Packets:     uint64(10000 + i*1234),
			Bytes:       uint64(9000000 + i*1000000),
			BitrateBPS:  2_400_000 + int64(i)*13_000,
			RTTMS:       float64(18 + i*9),
			LossPercent: float64(i%4) * 0.3,
			NACKs:       uint64(i * 3),
			PLIs:        uint64(i % 3),
		}
		switch i {
		case 2:
			v.Capture = "captures/main-v3-20250314.pcapng"
		case 5:
			v.LossPercent, v.RTTMS, v.NACKs = 7.5, 480, 1520
		case 7:
			v.Remote = "[2001:db8:85a3::8a2e:370:7334]:61000"
			v.VideoCodec = "H264"
		case 10:
			v.Problem = "codec mismatch"
			v.State = "failed"
		}
		viewers = append(viewers, v)
	}

	msgs := []status.ChatMessage{
		{ID: "m1", Time: now.Add(-310 * time.Second), User: "u-ann", Nick: "ann", Text: "hello everyone"},
		{ID: "m2", Time: now.Add(-250 * time.Second), User: "u-bob", Nick: "bob", Text: "stream looks great today"},
		{ID: "m3", Time: now.Add(-200 * time.Second), User: "u-mod", Nick: "mod", Text: "welcome! be nice", Admin: true},
		{ID: "m4", Time: now.Add(-150 * time.Second), User: "u-eve", Nick: "eve", Text: "BUY CHEAP FOLLOWERS \x1b[31mNOW\x1b[0m"},
		{ID: "m5", Time: now.Add(-90 * time.Second), User: "u-carl", Nick: "carl", Text: "my video is rotating sideways"},
		{ID: "m6", Time: now.Add(-45 * time.Second), User: "u-ann", Nick: "ann", Text: "same here on firefox"},
		{ID: "m7", Time: now.Add(-20 * time.Second), User: "u-dan", Nick: "a_very_long_nickname_indeed", Text: "what codec is this? the quality changed a minute ago and everything froze"},
		{ID: "m8", Time: now.Add(-5 * time.Second), User: "u-bob", Nick: "bob", Text: "back to normal"},
	}
	chatters := []status.Chatter{
		{User: "u-ann", Nick: "ann", Remote: "192.0.2.10:40001", Since: now.Add(-20 * time.Minute), Connected: true, Messages: 2},
		{User: "u-bob", Nick: "bob", Remote: "192.0.2.11:40002", Since: now.Add(-35 * time.Minute), Connected: true, Messages: 2},
		{User: "u-mod", Nick: "mod", Remote: "192.0.2.12:40003", Since: now.Add(-80 * time.Minute), Connected: true, Admin: true, Messages: 1},
		{User: "u-eve", Nick: "eve", Remote: "192.0.2.13:40004", Since: now.Add(-5 * time.Minute), Connected: true, Messages: 1, Banned: true},
		{User: "u-carl", Nick: "carl", Remote: "192.0.2.14:40005", Since: now.Add(-9 * time.Minute), Connected: true, Messages: 1},
		{User: "u-dan", Nick: "a_very_long_nickname_indeed", Remote: "192.0.2.15:40006", Since: now.Add(-2 * time.Minute), Connected: true, Messages: 1},
		{User: "u-fay", Nick: "fay", Remote: "192.0.2.16:40007", Since: now.Add(-1 * time.Minute), Connected: true, TimeoutUntil: now.Add(4*time.Minute + 10*time.Second)},
		{User: "u-gus", Nick: "gus", Remote: "192.0.2.17:40008", Since: now.Add(-50 * time.Minute), Messages: 0},
	}

	return status.Snapshot{
		Time:    now,
		Version: "v0.9.0",
		Started: t0.Add(-(3*time.Hour + 25*time.Minute + 10*time.Second)),
		System: status.System{
			ProcessCPUPercent: 37.5,
			MachineCPUPercent: 12.25,
			Cores:             8,
			RSSBytes:          184 << 20,
			Goroutines:        312,
			FDs:               240,
			FDLimit:           1024,
			Viewers:           14,
			MaxViewers:        100,
			EgressBPS:         34_500_000 + wave*400_000,
			DumpDir:           "/var/lib/bcast/dumps",
			DumpBytes:         3_435_973_837,
			DumpFreeBytes:     41 << 30,
		},
		Streams: []status.Stream{
			{
				Name:          "main",
				Live:          true,
				Viewers:       12,
				UptimeSeconds: 5025 + float64(tick),
				Video: &status.Media{
					Codec: "VP8", SSRC: 0x1234, Width: 1280, Height: 720, FPS: 30,
					BitrateBPS: 2_450_000 + wave*90_000, Packets: uint64(912345 + tick*250), Bytes: 800 << 20,
					Lost: 37, KeyframeInterval: 2, PLIsRequested: 9, PLIsSent: 4, NACKsSent: 120, JitterMS: 4.2,
				},
				Audio: &status.Media{
					Codec: "opus", SSRC: 0x5678, BitrateBPS: 64_000 + wave*1_000, Packets: uint64(250000 + tick*50),
					Bytes: 20 << 20, Lost: 3, JitterMS: 1.1,
				},
				Publisher: &status.Session{ID: "pub-1", Remote: "198.51.100.23:51234",
					Since: now.Add(-5025 * time.Second), State: "connected"},
				Joins: &status.Joins{WindowSeconds: 60, Count: 3, JoinP50MS: 90, JoinP95MS: 140, FirstFrameP50MS: 210, FirstFrameP95MS: 380},
				Dump: &status.Dump{
					Segment:      "/var/lib/bcast/dumps/main-20250314-190612-0003.pcapng",
					SegmentBytes: 48 << 20, Packets: 40000, BytesPerSecond: 320 << 10,
				},
				ViewerList: viewers,
				Chat: &status.Chat{
					Enabled: true, Connections: 9, Messages: msgs, Chatters: chatters,
				},
			},
			{
				Name:    "backup",
				Viewers: 2,
				ViewerList: []status.Viewer{
					{ID: "w01-beef", Num: 1, Remote: "198.51.100.77:40000", Since: now.Add(-90 * time.Second), State: "connected", VideoCodec: "VP8", AudioCodec: "opus"},
					{ID: "w02-cafe", Num: 2, Remote: "198.51.100.78:40001", Since: now.Add(-30 * time.Second), State: "connected", VideoCodec: "VP8", AudioCodec: "opus"},
				},
				Chat: &status.Chat{Enabled: false, SlowModeSeconds: 30},
			},
		},
	}
}

// fixtureEvents are a few log lines of each kind.
func fixtureEvents() []status.Event {
	return []status.Event{
		{Time: t0.Add(-40 * time.Second), Kind: status.EventJoin, Stream: "main", Text: "viewer #12 joined from 203.0.113.197:53421"},
		{Time: t0.Add(-30 * time.Second), Kind: status.EventAction, Stream: "main", Text: "console kicked viewer #13"},
		{Time: t0.Add(-25 * time.Second), Kind: status.EventLeave, Stream: "backup", Text: "viewer #3 left after 4m10s"},
		{Time: t0.Add(-10 * time.Second), Kind: status.EventAlert, Stream: "main", Level: levelWarn, Text: "keyframe requests unanswered for 6s"},
	}
}

// testModel builds a console of w×h on the given profile with a fixed
// clock, and feeds it ticks+1 snapshots one second apart and the fixture's
// events.
func testModel(t testing.TB, fb *fakeBackend, opts Options, w, h int, p colorprofile.Profile, ticks int) Model {
	t.Helper()
	m := New(fb, opts)
	m.setClock(func() time.Time { return t0 }, time.UTC)
	m = step(t, m, tea.ColorProfileMsg{Profile: p})
	m = step(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	for i := -ticks; i <= 0; i++ {
		m = step(t, m, snapshotMsg{snap: fixture(i)})
	}
	m = step(t, m, eventsMsg{events: fixtureEvents()})
	return m
}

// step applies one message and drops the command.
func step(t testing.TB, m Model, msg tea.Msg) Model {
	t.Helper()
	next, _ := m.Update(msg)
	return next.(Model)
}

// keyMsg builds the key press a terminal would send for a key name as
// key.Binding spells it.
func keyMsg(t testing.TB, k string) tea.KeyPressMsg {
	t.Helper()
	var msg tea.KeyPressMsg
	switch k {
	case "enter":
		msg = tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		msg = tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		msg = tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		msg = tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "backspace":
		msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "up":
		msg = tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		msg = tea.KeyPressMsg{Code: tea.KeyDown}
	case "ctrl+c":
		msg = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	default:
		r := []rune(k)
		if len(r) != 1 {
			t.Fatalf("keyMsg: no key %q", k)
		}
		msg = tea.KeyPressMsg{Code: r[0], Text: k}
		if lower := strings.ToLower(k); lower != k {
			msg = tea.KeyPressMsg{Code: []rune(lower)[0], ShiftedCode: r[0], Text: k, Mod: tea.ModShift}
		}
	}
	if got := msg.String(); got != k {
		t.Fatalf("keyMsg(%q).String() = %q", k, got)
	}
	return msg
}

// press sends keys in order and returns the model and the last command.
func press(t testing.TB, m Model, keys ...string) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, k := range keys {
		var next tea.Model
		next, cmd = m.Update(keyMsg(t, k))
		m = next.(Model)
	}
	return m, cmd
}

// screen is the rendered view as plain lines.
func screen(m Model) []string {
	return strings.Split(m.View().Content, "\n")
}
