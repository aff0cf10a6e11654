package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserChat: one page posts markup to the chat; another shows it as
// text and runs none of it; a moderator's delete removes it everywhere; the
// page's admin mode (#admin=TOKEN) deletes through its own button.
func TestBrowserChat(t *testing.T) {
	srv := startServer(t, nil)
	const xss = `<img src=x onerror="window.pwned=1;alert(1)">`
	lit, _ := json.Marshal(xss) // a JavaScript string literal

	// Two browsers, so the pages are two chatters (tabs of one browser
	// share the session in localStorage, as one person's tabs should).
	a, b := browser(t), browser(t)
	var dialogs atomic.Int32
	tabs := []context.Context{a, b}
	for _, ctx := range tabs {
		opening := chromedp.Events(ctx, page.JavascriptDialogOpening)
		go func() { // ends with the tab
			for _, err := range opening {
				if err != nil {
					return
				}
				dialogs.Add(1)
				chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
			}
		}()
	}

	url := srv.base + "/?stream=chat"
	diag := `JSON.stringify(window.bcastChat)`
	for _, ctx := range tabs {
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		evalUntil(t, ctx, 10*time.Second, "the chat to open", `window.bcastChat?.state === "reading"`, diag)
	}

	if err := chromedp.Do(a,
		chromedp.SendKeys(chromedp.ID("chat-nick"), "alice\r"),
		chromedp.WaitVisible(chromedp.ID("chat-input")),
		chromedp.SendKeys(chromedp.ID("chat-input"), xss),
		chromedp.Click(chromedp.ID("chat-send")),
	); err != nil {
		t.Fatal(err)
	}
	shown := fmt.Sprintf(`window.bcastChat.messages.length === 1 && window.bcastChat.messages[0] === %s`, lit)
	for _, ctx := range tabs {
		evalUntil(t, ctx, 10*time.Second, "the message", shown, diag)
	}
	check := fmt.Sprintf(`(() => {
		const texts = [...document.querySelectorAll('#chat-list .chat-text')].map((e) => e.textContent);
		return texts.length === 1 && texts[0] === %s &&
			document.querySelectorAll('#chat-list img, #chat-list script').length === 0 &&
			typeof window.pwned === 'undefined';
	})()`, lit)
	for i, ctx := range tabs {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](check))
		if err != nil || !ok {
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('chat-list').innerHTML`))
			t.Fatalf("tab %d: markup not shown as text (%v): %s", i, err, html)
		}
	}

	// A moderator deletes it over the admin API; it goes from both pages.
	id, err := chromedp.Run(b, chromedp.Evaluate[string](`window.bcastChat.ids[0]`))
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"kind":"chat_delete","stream":"chat","target":%q,"by":"api"}`, id)
	if resp, text := httpDo(t, "POST", srv.base+"/api/admin/actions", adminToken, "application/json", strings.NewReader(body)); resp.StatusCode != 200 {
		t.Fatalf("delete: %d %s", resp.StatusCode, text)
	}
	gone := `window.bcastChat.messages.length === 0 && document.querySelectorAll('#chat-list li').length === 0`
	for _, ctx := range tabs {
		evalUntil(t, ctx, 10*time.Second, "the message to disappear", gone, diag)
	}

	// Admin mode: the token leaves the address bar, the page still shows
	// the stream, and its Delete button works.
	mod, cancelMod := chromedp.NewContext(b) // a tab beside page B
	defer cancelMod()
	if err := chromedp.Do(mod, chromedp.Navigate(url+"#admin="+adminToken)); err != nil {
		t.Fatal(err)
	}
	evalUntil(t, mod, 10*time.Second, "admin mode", `window.bcastChat?.admin === true && window.bcastChat.stream === "chat"`, diag)
	if err := chromedp.Do(a, chromedp.SendKeys(chromedp.ID("chat-input"), "second"), chromedp.Click(chromedp.ID("chat-send"))); err != nil {
		t.Fatal(err)
	}
	evalUntil(t, mod, 10*time.Second, "the second message", `window.bcastChat.messages[0] === "second"`, diag)
	state, err := chromedp.Run(mod, chromedp.Evaluate[string](`JSON.stringify({
		href: location.href, stored: sessionStorage.getItem('bcast.adminToken') !== null,
		bar: !document.getElementById('chat-admin').hidden})`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(state, adminToken) || !strings.Contains(state, `"stored":true`) || !strings.Contains(state, `"bar":true`) {
		t.Fatalf("admin mode: %s", state)
	}
	if _, err := chromedp.Run(mod, chromedp.Evaluate[bool](`document.querySelector('#chat-list .chat-tool').click() === undefined`)); err != nil {
		t.Fatal(err)
	}
	for _, ctx := range append(tabs, mod) {
		evalUntil(t, ctx, 10*time.Second, "the admin page's delete", `window.bcastChat.messages.length === 0`, diag)
	}

	for i, ctx := range tabs {
		if pwned, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.pwned !== 'undefined'`)); err != nil || pwned {
			t.Fatalf("tab %d: script ran (%v)", i, err)
		}
	}
	if n := dialogs.Load(); n != 0 {
		t.Fatalf("%d JavaScript dialogs opened", n)
	}
}
