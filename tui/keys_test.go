package tui

import (
	"reflect"
	"testing"

	"charm.land/bubbles/v2/key"
)

// TestKeyMapUnique fails when two bindings share a key: the dispatcher
// would silently serve only one of them.
func TestKeyMapUnique(t *testing.T) {
	km := defaultKeyMap(false)
	v := reflect.ValueOf(km)
	owner := map[string]string{}
	for i := range v.NumField() {
		b, ok := v.Field(i).Interface().(key.Binding)
		if !ok {
			continue
		}
		name := v.Type().Field(i).Name
		if b.Help().Key == "" || b.Help().Desc == "" {
			t.Errorf("%s has no help", name)
		}
		for _, k := range b.Keys() {
			if prev, dup := owner[k]; dup {
				t.Errorf("key %q is bound to %s and %s", k, prev, name)
			}
			owner[k] = name
		}
	}
}

// TestKeyMapReadOnly disables exactly the actions.
func TestKeyMapReadOnly(t *testing.T) {
	ro := defaultKeyMap(true)
	actions := map[string]bool{}
	for _, b := range ro.actions() {
		actions[b.Help().Desc] = true
		if b.Enabled() {
			t.Errorf("%q enabled in read-only mode", b.Help().Key)
		}
	}
	for _, b := range []key.Binding{ro.Quit, ro.Help, ro.NextPane, ro.NextStream, ro.Filter, ro.Sort, ro.Confirm, ro.Up} {
		if !b.Enabled() {
			t.Errorf("%q disabled in read-only mode", b.Help().Key)
		}
	}
	if len(actions) != 10 {
		t.Errorf("%d actions, want 10", len(actions))
	}
}
