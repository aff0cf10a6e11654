package tui

import "charm.land/bubbles/v2/key"

// keyMap is every key the console answers to, in one place so that the help
// line, the full help and the dispatcher cannot disagree. The choice follows
// htop/k9s habits: vi motion keys and arrows, / to filter, ? for help, tab
// between panes, q to quit; actions are single letters, and the ones that
// cannot be undone ask for y before they run.
type keyMap struct {
	// Anywhere.
	Quit       key.Binding
	Help       key.Binding
	Close      key.Binding
	NextPane   key.Binding
	PrevPane   key.Binding
	NextStream key.Binding
	PrevStream key.Binding
	MaxViewers key.Binding

	// Moving the cursor of the focused pane.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	// Viewers pane.
	Filter  key.Binding
	Sort    key.Binding
	Reverse key.Binding
	Kick    key.Binding
	Capture key.Binding

	// Chat pane.
	ChatView   key.Binding
	Delete     key.Binding
	Ban        key.Binding
	Timeout    key.Binding
	Unban      key.Binding
	Slow       key.Binding
	ChatToggle key.Binding
	Clear      key.Binding

	// Submit completes a prompt's input.
	Submit key.Binding
	// Confirm is the only key that runs a destructive action or quits while
	// viewers are connected. Enter is deliberately not one of its keys: it
	// is what a hand presses by reflex after typing a prompt.
	Confirm key.Binding
}

// defaultKeyMap returns the bindings; with readOnly every action is
// disabled, which hides it from help and makes it match nothing.
func defaultKeyMap(readOnly bool) keyMap {
	b := func(keys []string, helpKey, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
	}
	km := keyMap{
		Quit:       b([]string{"q", "ctrl+c"}, "q", "quit"),
		Help:       b([]string{"?"}, "?", "help"),
		Close:      b([]string{"esc"}, "esc", "close/clear"),
		NextPane:   b([]string{"tab"}, "tab", "next pane"),
		PrevPane:   b([]string{"shift+tab"}, "shift+tab", "prev pane"),
		NextStream: b([]string{"s", "]"}, "s/]", "next stream"),
		PrevStream: b([]string{"["}, "[", "prev stream"),
		MaxViewers: b([]string{"m"}, "m", "viewer limit"),

		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+f"}, "pgdn", "page down"),
		Top:      b([]string{"home", "g"}, "g", "top"),
		Bottom:   b([]string{"end", "G"}, "G", "bottom"),

		Filter:  b([]string{"/"}, "/", "filter"),
		Sort:    b([]string{"o"}, "o", "sort column"),
		Reverse: b([]string{"O"}, "O", "reverse sort"),
		Kick:    b([]string{"x"}, "x", "kick"),
		Capture: b([]string{"c"}, "c", "capture on/off"),

		ChatView:   b([]string{"v"}, "v", "messages/chatters"),
		Delete:     b([]string{"d"}, "d", "delete msg"),
		Ban:        b([]string{"b"}, "b", "ban"),
		Timeout:    b([]string{"t"}, "t", "timeout"),
		Unban:      b([]string{"u"}, "u", "unban"),
		Slow:       b([]string{"S"}, "S", "slow mode"),
		ChatToggle: b([]string{"e"}, "e", "chat on/off"),
		Clear:      b([]string{"D"}, "D", "clear chat"),

		Submit:  b([]string{"enter"}, "enter", "ok"),
		Confirm: b([]string{"y"}, "y", "confirm"),
	}
	if readOnly {
		for _, a := range km.actions() {
			a.SetEnabled(false)
		}
	}
	return km
}

// actions lists the bindings that change the server, the ones read-only
// mode removes.
func (k *keyMap) actions() []*key.Binding {
	return []*key.Binding{
		&k.MaxViewers, &k.Kick, &k.Capture,
		&k.Delete, &k.Ban, &k.Timeout, &k.Unban, &k.Slow, &k.ChatToggle, &k.Clear,
	}
}

// shortHelp is the one-line help for the focused pane: what can be done
// here first, then the keys that work everywhere.
func (k keyMap) shortHelp(p pane) []key.Binding {
	var local []key.Binding
	switch p {
	case paneViewers:
		local = []key.Binding{k.Kick, k.Capture, k.Filter, k.Sort, k.Reverse}
	case paneChat:
		local = []key.Binding{k.Delete, k.Ban, k.Timeout, k.Unban, k.Slow, k.ChatToggle, k.Clear, k.ChatView}
	}
	return append(local, k.NextPane, k.NextStream, k.MaxViewers, k.Help, k.Quit)
}

// promptHelp is the help line while a prompt is open: an input takes Enter
// or esc, a confirmation y or anything else.
func (k keyMap) promptHelp(kind promptKind) []key.Binding {
	if kind == promptConfirm {
		// Shown only: promptKey cancels on whatever is not Confirm.
		anyOther := key.NewBinding(key.WithKeys("n", "esc", "enter"), key.WithHelp("any other key", "cancel"))
		return []key.Binding{k.Confirm, anyOther}
	}
	return []key.Binding{k.Submit, withHelp(k.Close, "esc", "cancel")}
}

// withHelp returns b with another help text.
func withHelp(b key.Binding, keyText, desc string) key.Binding {
	b.SetHelp(keyText, desc)
	return b
}

// helpGroup is one titled column of the full help.
type helpGroup struct {
	title    string
	bindings []key.Binding
}

// fullHelp is the full help, grouped by where the keys apply.
func (k keyMap) fullHelp() []helpGroup {
	return []helpGroup{
		{"General", []key.Binding{k.NextPane, k.PrevPane, k.NextStream, k.PrevStream, k.MaxViewers, k.Close, k.Quit}},
		{"Move", []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}},
		{"Viewers", []key.Binding{k.Filter, k.Sort, k.Reverse, k.Kick, k.Capture}},
		{"Chat", []key.Binding{k.ChatView, k.Delete, k.Ban, k.Timeout, k.Unban, k.Slow, k.ChatToggle, k.Clear}},
	}
}
