// Package tui is bcast's operator console: a terminal view of a running
// server (streamer health, viewers, system resources, dump disk, chat, and
// an alerts log) with the moderation and control actions an on-call
// operator needs during a stream.
//
// The console depends only on Backend, implemented in process by bcast serve
// and over the admin API by bcast console, and on the plain data of
// server/status, so the same console attaches to a server on another host
// and never pulls in the media stack.
//
// Structure: Model is the root bubbletea model; it polls Backend.Snapshot
// (one request in flight at most), listens to Backend.Events, and hands the
// data to components (header, system, viewers table, chat, log, prompt,
// help), each sized with SetSize and drawn by View into an exact rectangle.
// One styles value, built from the terminal's colour profile, and one keyMap
// serve them all. Alerts the console derives itself (deriveAlerts) are a
// pure function of two snapshots.
package tui
