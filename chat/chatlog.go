package chat

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bcastdev/bcast/server/status"
)

// logRecord is one line of a chat log (docs/CHAT.md, "Chat log").
type logRecord struct {
	Time    time.Time         `json:"time"`
	Type    string            `json:"type"` // "message", "nick" or "action"
	Action  status.ActionKind `json:"action,omitempty"`
	By      string            `json:"by,omitempty"`
	Target  string            `json:"target,omitempty"`
	Seconds int               `json:"seconds,omitempty"`
	ID      string            `json:"id,omitempty"`
	User    string            `json:"user,omitempty"`
	Nick    string            `json:"nick,omitempty"`
	OldNick string            `json:"old_nick,omitempty"`
	Text    string            `json:"text,omitempty"`
	Admin   bool              `json:"admin,omitempty"`
	Remote  string            `json:"remote,omitempty"`
}

// record queues rec for the stream's chat log.
func (h *Hub) record(stream string, rec logRecord) {
	if h.chatlog == nil {
		return
	}
	rec.Time = rec.Time.UTC()
	b, err := json.Marshal(rec)
	if err != nil {
		panic("chat: encoding log record: " + err.Error())
	}
	h.chatlog.write(logItem{stream: stream, time: rec.Time, line: append(b, '\n')})
}

// logQueue bounds records waiting for the disk; beyond it they are dropped
// and counted, because a stuck disk must not stop the chat.
const logQueue = 1024

// chatLog appends JSON lines to Dir/<stream>/chat-<UTC start>.jsonl from
// one goroutine. Files are created on their first record.
type chatLog struct {
	dir  string
	log  *slog.Logger
	done chan struct{}

	mu      sync.Mutex
	closed  bool
	ch      chan logItem
	dropped uint64
}

type logItem struct {
	stream string
	time   time.Time // of the record; names a new file
	line   []byte    // nil: close the stream's file (its room was dropped)
}

type logFile struct {
	f     *os.File
	w     *bufio.Writer
	dirty bool
}

func newChatLog(dir string, log *slog.Logger) *chatLog {
	l := &chatLog{dir: dir, log: log, done: make(chan struct{}), ch: make(chan logItem, logQueue)}
	go l.run()
	return l
}

func (l *chatLog) write(it logItem) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	select {
	case l.ch <- it:
	default:
		if it.line == nil {
			return // the file stays open until Close
		}
		if l.dropped++; l.dropped == 1 {
			l.log.Warn("chat log cannot keep up, dropping records", "stream", it.stream)
		}
	}
}

func (l *chatLog) forget(stream string) { l.write(logItem{stream: stream}) }

// close writes what is queued, flushes and closes the files.
func (l *chatLog) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	close(l.ch)
	l.mu.Unlock()
	<-l.done
	if l.dropped > 0 {
		l.log.Warn("chat log records dropped", "count", l.dropped)
	}
}

func (l *chatLog) run() {
	defer close(l.done)
	files := make(map[string]*logFile)
	failing := make(map[string]bool) // streams whose last write failed: logged once
	warn := func(stream string, err error) {
		if !failing[stream] {
			l.log.Warn("chat log write failed; chat goes on without it", "stream", stream, "err", err)
			failing[stream] = true
		}
	}
	fail := func(stream string, err error) { // drop the file; the next record reopens
		warn(stream, err)
		files[stream].f.Close()
		delete(files, stream)
	}
	for it := range l.ch {
		lf := files[it.stream]
		if it.line == nil {
			if lf != nil {
				if err := lf.close(); err != nil {
					warn(it.stream, err)
				}
				delete(files, it.stream)
			}
			delete(failing, it.stream)
			continue
		}
		if lf == nil {
			var err error
			if lf, err = l.open(it.stream, it.time); err != nil {
				warn(it.stream, err)
				continue
			}
			files[it.stream] = lf
		}
		if _, err := lf.w.Write(it.line); err != nil {
			fail(it.stream, err)
			continue
		}
		lf.dirty = true
		if len(l.ch) > 0 {
			continue // flush once the burst is written
		}
		for stream, lf := range files {
			if !lf.dirty {
				continue
			}
			lf.dirty = false
			if err := lf.w.Flush(); err != nil {
				fail(stream, err)
			} else if failing[stream] {
				l.log.Info("chat log writes again", "stream", stream)
				delete(failing, stream)
			}
		}
	}
	for stream, lf := range files {
		if err := lf.close(); err != nil {
			warn(stream, err)
		}
	}
}

func (l *chatLog) open(stream string, start time.Time) (*logFile, error) {
	dir := filepath.Join(l.dir, stream)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("chat log: %w", err)
	}
	name := filepath.Join(dir, "chat-"+start.UTC().Format("20060102T150405Z")+".jsonl")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("chat log: %w", err)
	}
	return &logFile{f: f, w: bufio.NewWriter(f)}, nil
}

func (lf *logFile) close() error {
	err := lf.w.Flush()
	if cerr := lf.f.Close(); err == nil {
		err = cerr
	}
	return err
}
