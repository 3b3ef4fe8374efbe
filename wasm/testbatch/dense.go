package testbatch

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// piiForms are values the detectors mask, in the shapes pages write them.
var piiForms = []func(r *rand.Rand) string{
	func(r *rand.Rand) string { return fmt.Sprintf("user%d@example.com", r.IntN(1e6)) },
	func(r *rand.Rand) string { return fmt.Sprintf("%d x@y.de", r.IntN(1e5)) },
	func(r *rand.Rand) string { return "4111 1111 1111 1111" },
	func(r *rand.Rand) string { return "DE89 3704 0044 0532 0130 00" },
	func(r *rand.Rand) string { return fmt.Sprintf("+1 415 555 %04d", r.IntN(1e4)) },
	func(r *rand.Rand) string { return "078-05-1120" },
	func(r *rand.Rand) string {
		return fmt.Sprintf("203.0.%d.%d", r.IntN(256), r.IntN(256))
	},
	func(r *rand.Rand) string {
		return "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-" + strconv.Itoa(r.IntN(1e6))
	},
	func(r *rand.Rand) string { return "Bearer sk_live_4eC39HqLyjWDarjtT1zdp" + strconv.Itoa(r.IntN(1e4)) },
	func(r *rand.Rand) string {
		return fmt.Sprintf("https://shop.example.com/s?q=a%%40b.de&email=u%d%%40example.com&card=4111+1111+1111+1111", r.IntN(1e4))
	},
	func(r *rand.Rand) string { return fmt.Sprintf(`caf\u00e9 jos\u00e9%d@example.com\n`, r.IntN(1e4)) },
	func(r *rand.Rand) string { return fmt.Sprintf(`say \"hi\" to o\u0027brien%d@example.ie`, r.IntN(1e4)) },
}

// Dense returns a batch holding one replay segment of about size bytes in
// which about every other string holds personal data, in every place a
// segment carries text: text nodes, attributes, textareas, masked
// elements, mutations, input events and console payloads. Strings are
// distinct (each carries a number), so the engine's per-batch memo
// cannot shortcut them. The same seed gives the same batch.
func Dense(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// JSON string content, possibly with escapes already in it.
	text := func() string {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			if r.IntN(2) == 0 {
				b.WriteString(piiForms[r.IntN(len(piiForms))](r))
			} else {
				b.WriteString(words[r.IntN(len(words))])
				b.WriteString(strconv.Itoa(r.IntN(1e5)))
			}
		}
		if r.IntN(8) == 0 {
			b.WriteString(strings.Repeat(" lorem ipsum", r.IntN(40)))
		}
		return b.String()
	}
	id := 10
	next := func() int { id++; return id }
	var node func(depth int) string
	node = func(depth int) string {
		switch k := r.IntN(10); {
		case k < 4 || depth > 6:
			return fmt.Sprintf(`{"type":3,"textContent":"%s","id":%d}`, text(), next())
		case k == 4:
			return fmt.Sprintf(`{"type":2,"tagName":"textarea","attributes":{"name":"n%d"},"childNodes":[{"type":3,"textContent":"%s","id":%d}],"id":%d}`, r.IntN(99), text(), next(), next())
		case k == 5:
			return fmt.Sprintf(`{"type":2,"tagName":"input","attributes":{"type":"text","value":"%s","placeholder":"%s","title":"%s"},"childNodes":[],"id":%d}`, text(), text(), text(), next())
		case k == 6:
			return fmt.Sprintf(`{"type":2,"tagName":"a","attributes":{"href":"%s","data-x":"%s","onclick":"%s"},"childNodes":[%s],"id":%d}`, piiForms[9](r), text(), text(), node(depth+1), next())
		case k == 7:
			return fmt.Sprintf(`{"type":2,"tagName":"div","attributes":{"class":"card rr-mask"},"childNodes":[%s,%s],"id":%d}`, node(depth+1), node(depth+1), next())
		case k == 8:
			// tag and attributes after the children: the engine walks it again
			return fmt.Sprintf(`{"type":2,"childNodes":[%s],"tagName":"p","attributes":{"alt":"%s"},"id":%d}`, node(depth+1), text(), next())
		default:
			var kids []string
			for range 1 + r.IntN(4) {
				kids = append(kids, node(depth+1))
			}
			return fmt.Sprintf(`{"type":2,"tagName":"p","attributes":{"aria-label":"%s"},"childNodes":[%s],"id":%d}`, text(), strings.Join(kids, ","), next())
		}
	}
	var body []string
	total := 0
	for total < size*6/10 {
		n := node(0)
		body = append(body, n)
		total += len(n) + 1
	}
	snapshot := fmt.Sprintf(`{"type":2,"data":{"node":{"type":0,"childNodes":[{"type":2,"tagName":"html","attributes":{},"childNodes":[{"type":2,"tagName":"body","attributes":{},"childNodes":[%s],"id":3}],"id":2}],"id":1},"initialOffset":{"left":0,"top":0}},"timestamp":1764028800110}`,
		strings.Join(body, ","))
	rr := []string{fmt.Sprintf(`{"type":4,"data":{"href":"%s","width":1280,"height":720},"timestamp":1764028800100}`, piiForms[9](r)), snapshot}
	for total < size-300 {
		var ev string
		switch r.IntN(5) {
		case 0:
			ev = fmt.Sprintf(`{"type":3,"data":{"source":0,"texts":[{"id":%d,"value":"%s"}],"attributes":[{"id":%d,"attributes":{"title":"%s","value":"%s"}}],"removes":[],"adds":[{"parentId":%d,"nextId":null,"node":%s}]},"timestamp":1764028801000}`,
				12+r.IntN(id-11), text(), 12+r.IntN(id-11), text(), text(), 12+r.IntN(id-11), node(3))
		case 1:
			ev = fmt.Sprintf(`{"type":3,"data":{"source":5,"text":"%s","isChecked":false,"id":%d},"timestamp":1764028801000}`, text(), 12+r.IntN(id-11))
		case 2:
			ev = fmt.Sprintf(`{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":"log","payload":["\"%s\"","%s"],"trace":[]}},"timestamp":1764028801000}`, text(), text())
		case 3:
			ev = fmt.Sprintf(`{"type":5,"data":{"tag":"note","payload":{"message":"%s","password":"%s"}},"timestamp":1764028801000}`, text(), text())
		default:
			ev = fmt.Sprintf(`{"type":3,"data":{"source":1,"positions":[{"x":%d,"y":%d,"id":8,"timeOffset":0}]},"timestamp":1764028801000}`, r.IntN(1280), r.IntN(720))
		}
		rr = append(rr, ev)
		total += len(ev) + 1
	}
	ev := fmt.Sprintf(`{"id":"r-%d","ts":1764028800100,"kind":"replay","replay":{"segment":0,"events":[%s]}}`, seed, strings.Join(rr, ","))
	return envelope(fmt.Sprintf("s-dense-%d", seed), `"error":true`, []string{ev})
}

// Paragraphs returns a replay segment whose full snapshot is n <p>
// elements, each holding one text node of text(i): the shapes that
// aborted fresh wasm instances in issue 17.
func Paragraphs(n int, text func(i int) string) []byte {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":2,"tagName":"p","attributes":{},"childNodes":[{"type":3,"textContent":%q,"id":%d}],"id":%d}`, text(i), 2*i+100, 2*i+101)
	}
	snapshot := fmt.Sprintf(`{"type":2,"data":{"node":{"type":0,"childNodes":[{"type":2,"tagName":"html","attributes":{},"childNodes":[{"type":2,"tagName":"body","attributes":{},"childNodes":[%s],"id":3}],"id":2}],"id":1},"initialOffset":{"left":0,"top":0}},"timestamp":1764028800110}`, b.String())
	ev := fmt.Sprintf(`{"id":"r-p","ts":1764028800100,"kind":"replay","replay":{"segment":0,"events":[%s]}}`, snapshot)
	return envelope("s-paragraphs", `"error":true`, []string{ev})
}
