// Package testbatch builds synthetic batches for the policy engine's tests
// and benchmarks: realistic sizes and shapes, personal data where real
// pages have it, deterministic for a given seed.
package testbatch

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"

func envelope(sessionID string, flags string, events []string) []byte {
	return []byte(fmt.Sprintf(`{"v":1,"sdk":{"name":"@rearview/browser","version":"0.1.0"},"session":{"id":%q,"seq":1,"started_at":1764028800000,"user_id":"u-42","flags":{%s}},"page":{"url":"https://shop.example.com/checkout?step=2&utm_source=mail"},"device":{"ua":%q,"viewport":{"w":1280,"h":720}},"sent_at":1764028812345,"events":[%s]}`,
		sessionID, flags, ua, strings.Join(events, ",")))
}

// Errors returns a batch of n error events, each with a stack of 12
// frames, 5 breadcrumbs (one a fetch with headers) and a message holding
// an e-mail address every fourth event.
func Errors(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	evs := make([]string, n)
	for i := range evs {
		var frames []string
		for f := range 12 {
			frames = append(frames, fmt.Sprintf(`{"url":"https://shop.example.com/static/js/chunk-%d.a7f3e2.js","function":"fn%d","line":%d,"column":%d}`, f, f, 1+r.IntN(900), 1+r.IntN(40000)))
		}
		msg := fmt.Sprintf("Cannot read properties of undefined (reading 'item%d')", r.IntN(100))
		if i%4 == 0 {
			msg = fmt.Sprintf("Checkout failed for user%d@example.com with code %d", i, r.IntN(1000))
		}
		crumbs := `{"ts":1764028811000,"category":"ui.click","selector":"button#checkout.primary"},` +
			`{"ts":1764028811100,"category":"navigation","url":"https://shop.example.com/cart?ref=header"},` +
			`{"ts":1764028811200,"category":"console","level":"warn","message":"Slow network detected, retrying request 3 of 5"},` +
			`{"ts":1764028811300,"category":"ui.input","selector":"input#coupon"},` +
			`{"ts":1764028811500,"category":"fetch","http":{"method":"POST","url":"https://shop.example.com/api/cart?session_id=abc123","status":500,"duration_ms":120.5,"request_headers":{"Content-Type":"application/json","Authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-abcdef"}}}`
		evs[i] = fmt.Sprintf(`{"id":"e-%04d","ts":%d,"kind":"error","error":{"type":"TypeError","value":%q,"mechanism":"onerror","handled":false,"stack":[%s],"release":"a7f3e2c","environment":"production","url":"https://shop.example.com/checkout?step=2","tags":{"component":"CartSummary","plan":"pro"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","breadcrumbs":[%s]}}`,
			i, 1764028812000+int64(i), msg, strings.Join(frames, ","), crumbs)
	}
	return envelope("s-err-bench", `"error":true`, evs)
}

var words = strings.Fields(`the quick brown fox jumps over lazy dog order total shipping address payment
card number expires account settings profile orders wishlist help contact us returns policy privacy terms
subscribe newsletter search results filter sort price low high rating reviews add to cart checkout continue`)

// Replay returns a batch holding one replay segment of about size bytes:
// a full snapshot of a page with a stylesheet, nested sections of text,
// links, images and inputs, followed by mutations, input and mouse events.
func Replay(size int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	id := 10
	next := func() int { id++; return id }
	text := func(n int) string {
		var b strings.Builder
		for k := range n {
			if k > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[r.IntN(len(words))])
		}
		return b.String()
	}
	var css strings.Builder
	for k := range 200 {
		fmt.Fprintf(&css, ".c%d{margin:%dpx;color:#%06x;background:url(/img/bg%d.png)} ", k, k%16, r.IntN(1<<24), k)
	}
	var body []string
	total := 0
	for total < size*8/10 {
		var items []string
		for range 8 {
			t := text(3 + r.IntN(12))
			if r.IntN(20) == 0 {
				t += fmt.Sprintf(" mail me at person%d@example.org", r.IntN(1000))
			}
			items = append(items, fmt.Sprintf(`{"type":2,"tagName":"li","attributes":{"class":"item item-%d","style":"padding:4px"},"childNodes":[{"type":2,"tagName":"a","attributes":{"href":"/p/%d?ref=list","title":%q},"childNodes":[{"type":3,"textContent":%q,"id":%d}],"id":%d},{"type":2,"tagName":"img","attributes":{"src":"https://cdn.example.com/p/%d.jpg","alt":%q,"width":"120"},"childNodes":[],"id":%d}],"id":%d}`,
				r.IntN(9), r.IntN(9999), text(3), t, next(), next(), r.IntN(9999), text(4), next(), next()))
		}
		sec := fmt.Sprintf(`{"type":2,"tagName":"section","attributes":{"class":"grid"},"childNodes":[{"type":2,"tagName":"h2","attributes":{},"childNodes":[{"type":3,"textContent":%q,"id":%d}],"id":%d},{"type":2,"tagName":"input","attributes":{"type":"text","name":"q","value":%q,"placeholder":"Search"},"childNodes":[],"id":%d},{"type":2,"tagName":"ul","attributes":{},"childNodes":[%s],"id":%d}],"id":%d}`,
			text(4), next(), next(), text(2), next(), strings.Join(items, ","), next(), next())
		body = append(body, sec)
		total += len(sec)
	}
	snapshot := fmt.Sprintf(`{"type":2,"data":{"node":{"type":0,"childNodes":[{"type":1,"name":"html","publicId":"","systemId":"","id":2},{"type":2,"tagName":"html","attributes":{"lang":"en"},"childNodes":[{"type":2,"tagName":"head","attributes":{},"childNodes":[{"type":2,"tagName":"style","attributes":{},"childNodes":[{"type":3,"textContent":%q,"isStyle":true,"id":6}],"id":5}],"id":4},{"type":2,"tagName":"body","attributes":{"class":"page"},"childNodes":[%s],"id":8}],"id":3}],"id":1},"initialOffset":{"left":0,"top":0}},"timestamp":1764028800110}`,
		css.String(), strings.Join(body, ","))
	rr := []string{`{"type":4,"data":{"href":"https://shop.example.com/products?page=2","width":1280,"height":720},"timestamp":1764028800100}`, snapshot}
	for k := 0; len(strings.Join(rr, ",")) < size-400; k++ {
		switch k % 3 {
		case 0:
			rr = append(rr, fmt.Sprintf(`{"type":3,"data":{"source":1,"positions":[{"x":%d,"y":%d,"id":8,"timeOffset":-50},{"x":%d,"y":%d,"id":8,"timeOffset":0}]},"timestamp":%d}`, r.IntN(1280), r.IntN(720), r.IntN(1280), r.IntN(720), 1764028801000+k))
		case 1:
			rr = append(rr, fmt.Sprintf(`{"type":3,"data":{"source":0,"texts":[{"id":%d,"value":%q}],"attributes":[{"id":%d,"attributes":{"class":"item active","style":"color:red"}}],"removes":[],"adds":[]},"timestamp":%d}`, 12+r.IntN(id-12), text(6), 12+r.IntN(id-12), 1764028801000+k))
		case 2:
			rr = append(rr, fmt.Sprintf(`{"type":3,"data":{"source":5,"text":%q,"isChecked":false,"id":%d},"timestamp":%d}`, text(2), 12+r.IntN(id-12), 1764028801000+k))
		}
	}
	ev := fmt.Sprintf(`{"id":"r-0","ts":1764028800100,"kind":"replay","replay":{"segment":0,"events":[%s]}}`, strings.Join(rr, ","))
	return envelope("s-replay-bench", `"error":true`, []string{ev})
}
