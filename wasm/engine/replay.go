package engine

import (
	"bytes"

	"github.com/rearview-dev/rearview/wasm/mask"
)

// rrweb event types.
const (
	rrFullSnapshot = 2
	rrIncremental  = 3
	rrMeta         = 4
	rrCustom       = 5
	rrPlugin       = 6
)

// rrweb node types.
const (
	nodeText = 3
)

func (e *Engine) replayMember(k []byte) {
	switch string(k) {
	case "events":
		e.array(e.rrEvent)
	case "segment", "from_buffer", "end_ts":
		e.r.Copy()
	default:
		e.generic()
	}
}

// memberInt looks ahead in the object at the reader for an integer member
// named k and returns it, or -1.
func (e *Engine) memberInt(k string) int64 {
	r := &e.r
	m := r.Mark()
	defer r.Restore(m)
	r.Open('{')
	n := 0
	for r.NextKey(&n) {
		if equalKey(r.Key(), k) {
			if c := r.Peek(); c == '-' || c >= '0' && c <= '9' {
				return r.Int()
			}
			return -1
		}
		r.Skip()
	}
	return -1
}

// equalKey reports whether b is s, a short key: byte by byte rather than
// by the runtime's memequal, two calls under wasm.
func equalKey(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}

func (e *Engine) rrEvent() {
	r := &e.r
	if r.Peek() != '{' {
		e.generic()
		return
	}
	typ := e.memberInt("type")
	r.OpenCopy('{')
	n := 0
	for r.NextKeyCopy(&n) {
		if k := r.Key(); len(k) > 8 {
			if a, b := keyWords(k); kTimestamp.eq(len(k), a, b) {
				r.Copy()
				continue
			}
		}
		switch string(r.Key()) {
		case "data":
			e.rrData(typ)
		case "type", "timestamp", "delay":
			r.Copy()
		default:
			e.generic()
		}
	}
}

func (e *Engine) rrData(typ int64) {
	r := &e.r
	switch typ {
	case rrFullSnapshot:
		e.object(func(k []byte) {
			switch string(k) {
			case "node":
				e.node(nodeCtx{})
			case "initialOffset":
				r.Copy()
			default:
				e.generic()
			}
		})
	case rrIncremental:
		e.object(e.incrementalMember)
	case rrMeta:
		e.object(func(k []byte) {
			switch string(k) {
			case "href":
				e.str(mURL)
			case "width", "height":
				r.Copy()
			default:
				e.generic()
			}
		})
	case rrCustom, rrPlugin:
		e.object(func(k []byte) {
			switch string(k) {
			case "tag", "plugin":
				r.Copy()
			default:
				e.generic()
			}
		})
	case 0, 1: // DOMContentLoaded, Load
		r.Copy()
	default:
		e.generic()
	}
}

// incrementalMember handles a member of an incremental snapshot's data by
// its name, which says what it is whatever the source.
func (e *Engine) incrementalMember(k []byte) {
	r := &e.r
	// The common keys of more than eight bytes by their words (see
	// longKey); the others are found by the switch.
	if len(k) > 8 {
		switch a, b := keyWords(k); {
		case kAttributes.eq(len(k), a, b):
			e.array(e.attributeMutation)
			return
		case kPositions.eq(len(k), a, b), kIsChecked.eq(len(k), a, b), kTimeOffset.eq(len(k), a, b):
			r.Copy()
			return
		}
	}
	switch string(k) {
	case "adds":
		e.array(e.add)
	case "texts":
		e.array(e.textMutation)
	case "attributes":
		e.array(e.attributeMutation)
	case "text": // an input event
		if e.p.Masking.Inputs || e.p.Masking.Strict {
			e.str(mStars)
		} else {
			e.str(mDetect)
		}
	case "source", "id", "removes", "positions", "x", "y", "type", "isChecked", "userTriggeredOnInput",
		"width", "height", "currentTime", "volume", "muted", "playbackRate", "loop", "styleId",
		"index", "ranges", "pointerType", "textId", "isAttachIframe", "timeOffset":
		r.Copy()
	default:
		if cssKey(k) {
			r.Copy()
			return
		}
		e.generic()
	}
}

// The node keys of more than eight bytes.
var (
	kAttributes, kChildNodes, kTextContent = newLongKey("attributes"), newLongKey("childNodes"), newLongKey("textContent")
	kCompatMode, kIsShadowHost, kNeedBlock = newLongKey("compatMode"), newLongKey("isShadowHost"), newLongKey("needBlock")
	kPositions, kIsChecked, kTimeOffset    = newLongKey("positions"), newLongKey("isChecked"), newLongKey("timeOffset")
	kTimestamp, kPlaceholder               = newLongKey("timestamp"), newLongKey("placeholder")
)

// nodeCtx is what a node inherits from its ancestors.
type nodeCtx struct {
	masked   bool // an ancestor matched a mask selector
	style    bool // the parent is <style>
	textarea bool // the parent is <textarea>: the text is an input value
}

// Tags that change how their content is masked.
const (
	tagOther = iota
	tagStyle
	tagTextarea
	tagLink
)

func tagOf(b []byte) int {
	switch {
	case equalFold(b, "style"):
		return tagStyle
	case equalFold(b, "textarea"):
		return tagTextarea
	case equalFold(b, "link"):
		return tagLink
	}
	return tagOther
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// nodeState collects what a node says about itself while it is walked.
type nodeState struct {
	typ      int64
	tag      int
	seenTag  bool
	seenAttr bool
	masked   bool
	isStyle  bool
	id       int64
	hasID    bool
	text     [2]int // bounds of textContent in the output
	textEsc  bool
	hasText  bool
}

// node walks a serialized rrweb node.
//
// Children inherit from their parent's tag and attributes, which rrweb
// writes before childNodes; when they come after (or not at all, as in the
// document node, which holds the whole page) the engine used to look ahead
// past the children for them, reading the whole snapshot twice. It now
// walks the children at once and, only if a tagName or attributes member
// does turn up after them, undoes the node and walks it again looking
// ahead first: the output is the same.
func (e *Engine) node(ctx nodeCtx) {
	r := &e.r
	if r.Peek() != '{' {
		e.generic()
		return
	}
	mk, outLen, evMasked, jl := r.Mark(), r.OutLen(), e.evMasked, len(e.journal)
	// With lookahead, a tag and attributes that follow the children are
	// read before walking them; without, meeting one there starts the
	// node again with lookahead.
	lookahead := false
walk:
	var st nodeState
	early := false // children were walked before the tag and attributes
	r.OpenCopy('{')
	n := 0
	for r.NextKeyCopy(&n) {
		k := r.Key()
		// Keys of more than eight bytes by their words (see longKey).
		if len(k) > 8 {
			switch a, b := keyWords(k); {
			case kAttributes.eq(len(k), a, b):
				if early {
					r.Restore(mk)
					r.Truncate(outLen)
					e.evMasked = evMasked
					e.undoIDs(jl)
					lookahead = true
					goto walk
				}
				st.seenAttr = true
				st.masked = e.elementAttributes(st.tag, ctx.masked)
			case kChildNodes.eq(len(k), a, b):
				if !st.seenTag || !st.seenAttr {
					if lookahead {
						e.nodeLookahead(&st, ctx.masked)
					} else {
						early = true
					}
				}
				child := nodeCtx{masked: ctx.masked || st.masked, style: st.tag == tagStyle, textarea: st.tag == tagTextarea}
				if early {
					e.optimistic++
					e.children(child)
					e.optimistic--
				} else {
					e.children(child)
				}
			case kTextContent.eq(len(k), a, b):
				if r.Peek() == '"' {
					s, end, esc := r.String()
					o := r.OutLen() + 1
					r.Emit(s-1, end+1) // with its quotes
					st.text, st.textEsc, st.hasText = [2]int{o, o + end - s}, esc, true
					continue
				}
				e.generic()
			case kCompatMode.eq(len(k), a, b), kIsShadowHost.eq(len(k), a, b), kNeedBlock.eq(len(k), a, b):
				r.Copy()
			default:
				e.generic()
			}
			continue
		}
		switch string(k) {
		case "type":
			if c := r.Peek(); c >= '0' && c <= '9' {
				s := r.Pos
				st.typ = r.Int()
				r.Emit(s, r.Pos)
				continue
			}
			e.generic()
		case "tagName":
			if early {
				r.Restore(mk)
				r.Truncate(outLen)
				e.evMasked = evMasked
				e.undoIDs(jl)
				lookahead = true
				goto walk
			}
			if r.Peek() == '"' {
				s, end, _ := r.String()
				st.tag, st.seenTag = tagOf(r.In[s:end]), true
				r.Emit(s-1, end+1) // with its quotes
				continue
			}
			e.generic()
		case "isStyle":
			if c := r.Peek(); c == 't' || c == 'f' {
				s := r.Pos
				st.isStyle = r.Bool()
				r.Emit(s, r.Pos)
				continue
			}
			r.Copy()
		case "id":
			if c := r.Peek(); c == '-' || c >= '0' && c <= '9' {
				s := r.Pos
				st.id, st.hasID = r.Int(), true
				r.Emit(s, r.Pos)
				continue
			}
			r.Copy()
		case "rootId", "isSVG", "name", "publicId", "systemId", "isShadow", "isCustom":
			r.Copy()
		default:
			e.generic()
		}
	}
	if st.hasID {
		switch {
		case st.tag == tagStyle || st.isStyle || ctx.style && st.typ == nodeText:
			e.markID(st.id, true)
		case ctx.masked || st.masked:
			e.markID(st.id, false)
		}
	}
	if st.hasText && !ctx.style && !st.isStyle {
		m := mDetect
		switch {
		case ctx.masked || st.masked || e.p.Masking.Strict:
			m = mStars
		case ctx.textarea && e.p.Masking.Inputs:
			m = mStars
		}
		// The text was written unmasked before the tag and attributes
		// that decide its masking were known; it is rewritten where it
		// lies in the output.
		a, b := st.text[0], st.text[1]
		if repl, changed := e.maskString(r.OutSlice(a, b), st.textEsc, m); changed {
			r.Flush()
			e.splice(a, b, repl)
			e.evMasked++
		}
	}
	if e.optimistic == 0 {
		e.journal = e.journal[:jl] // nothing can undo this node any more
	}
}

// idEntry records an id marked while walking children optimistically.
type idEntry struct {
	id    int64
	style bool // styleIDs, else maskIDs
	had   bool // it was marked before
}

// markID marks id in styleIDs or maskIDs, journaling the change while a
// walk may still be undone.
func (e *Engine) markID(id int64, style bool) {
	ids := e.maskIDs
	if style {
		ids = e.styleIDs
	}
	if e.optimistic > 0 {
		e.journal = append(e.journal, idEntry{id: id, style: style, had: ids[id]})
	}
	ids[id] = true
}

// undoIDs reverts the ids marked since the journal held jl entries.
func (e *Engine) undoIDs(jl int) {
	for i := len(e.journal) - 1; i >= jl; i-- {
		if j := e.journal[i]; !j.had {
			if j.style {
				delete(e.styleIDs, j.id)
			} else {
				delete(e.maskIDs, j.id)
			}
		}
	}
	e.journal = e.journal[:jl]
}

// children walks the childNodes array of a node. Like node, it loops
// itself rather than through array and a closure: under wasm an indirect
// call costs several times a direct one, and these run once per node.
func (e *Engine) children(ctx nodeCtx) {
	r := &e.r
	if r.Peek() != '[' {
		e.generic()
		return
	}
	r.OpenCopy('[')
	n := 0
	for r.NextElemCopy(&n) {
		e.node(ctx)
	}
}

// nodeLookahead reads the tag and attributes of a node whose children
// come before them, without writing anything.
func (e *Engine) nodeLookahead(st *nodeState, inherited bool) {
	r := &e.r
	m := r.Mark()
	defer r.Restore(m)
	// Back up to the node's opening brace is not possible; instead scan
	// the rest of the object from here: the current value first.
	r.Skip()
	n := 1
	for r.NextKey(&n) {
		switch string(r.Key()) {
		case "tagName":
			if r.Peek() == '"' {
				s, end, _ := r.String()
				st.tag, st.seenTag = tagOf(r.In[s:end]), true
				continue
			}
		case "attributes":
			if r.Peek() == '{' {
				st.masked = e.maskedBy(st.tag) || st.masked
				st.seenAttr = true
			}
		}
		r.Skip()
	}
}

// maskedBy reports, looking ahead without consuming, whether the
// attributes object at the reader matches a mask selector.
func (e *Engine) maskedBy(tag int) bool {
	r := &e.r
	m := r.Mark()
	defer r.Restore(m)
	r.Open('{')
	masked := false
	n := 0
	for r.NextKey(&n) {
		name := r.Key()
		if !masked && e.selectorAttr(name) {
			masked = true
		}
		if string(name) == "class" && r.Peek() == '"' {
			s, end, _ := r.String()
			if e.selectorClass(r.In[s:end]) {
				masked = true
			}
			continue
		}
		r.Skip()
	}
	return masked
}

// selectors splits the policy's mask selectors into attribute names and
// class names once per policy, rather than once per attribute.
func (e *Engine) selectors() {
	if e.selFor == e.p {
		return
	}
	e.selFor = e.p
	e.selAttrs, e.selClasses = e.selAttrs[:0], e.selClasses[:0]
	for _, s := range e.p.Masking.Selectors {
		switch {
		case len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']':
			e.selAttrs = append(e.selAttrs, s[1:len(s)-1])
		case s[0] == '.':
			e.selClasses = append(e.selClasses, s[1:])
		default:
			e.selAttrs = append(e.selAttrs, s)
		}
	}
}

func (e *Engine) selectorAttr(name []byte) bool {
	for _, s := range e.selAttrs {
		if string(name) == s {
			return true
		}
	}
	return false
}

func (e *Engine) selectorClass(class []byte) bool {
	if len(e.selClasses) == 0 {
		return false
	}
	for i := 0; i < len(class); {
		for i < len(class) && class[i] == ' ' {
			i++
		}
		j := i
		for j < len(class) && class[j] != ' ' {
			j++
		}
		if j > i {
			for _, want := range e.selClasses {
				if string(class[i:j]) == want {
					return true
				}
			}
		}
		i = j
	}
	return false
}

// elementAttributes walks an element's attributes and reports whether the
// element matches a mask selector. It writes them in one pass, unhidden
// unless inherited, and only when a selector turns up after values were
// written unhidden walks them again hidden: looking ahead for selectors
// first would read every element's attributes twice.
func (e *Engine) elementAttributes(tag int, inherited bool) bool {
	r := &e.r
	if r.Peek() != '{' {
		e.generic()
		return false
	}
	m, outLen, evMasked := r.Mark(), r.OutLen(), e.evMasked
	masked := e.walkAttributes(tag, inherited, true)
	if masked && !inherited {
		r.Restore(m)
		r.Truncate(outLen)
		e.evMasked = evMasked
		e.walkAttributes(tag, true, false)
	}
	return masked
}

// walkAttributes writes the attributes object at the reader, hidden or
// not, and with find reports whether it matches a mask selector (as
// maskedBy does).
func (e *Engine) walkAttributes(tag int, hide, find bool) bool {
	r := &e.r
	r.OpenCopy('{')
	masked := false
	n := 0
	for r.NextKeyCopy(&n) {
		name := r.Key()
		if find {
			if !masked && e.selectorAttr(name) {
				masked = true
			}
			if string(name) == "class" && r.Peek() == '"' {
				s, end, _ := r.String()
				if e.selectorClass(r.In[s:end]) {
					masked = true
				}
				r.Emit(s-1, end+1) // class is copied
				continue
			}
		}
		e.attribute(name, tag, hide, false)
	}
	return masked
}

// attribute masks one attribute value by its name.
func (e *Engine) attribute(name []byte, tag int, hidden, mutation bool) {
	r := &e.r
	strict := e.p.Masking.Strict
	if len(name) > 8 {
		if a, b := keyWords(name); kPlaceholder.eq(len(name), a, b) {
			if strict || hidden {
				e.str(mStars)
			} else {
				e.str(mDetect)
			}
			return
		}
	}
	switch string(name) {
	case "style", "_cssText", "class", "id", "rel", "type", "media", "rr_dataURL", "integrity", "crossorigin",
		"d", "viewBox", "points", "transform", "xmlns", "xmlns:xlink", "for", "role", "tabindex", "lang", "dir",
		"charset", "width", "height", "target", "method", "rr_width", "rr_height", "rr_mediaState",
		"rr_mediaCurrentTime", "rr_scrollLeft", "rr_scrollTop", "selected", "checked", "disabled", "hidden":
		r.Copy()
		return
	case "value":
		if e.p.Masking.Inputs || strict || hidden {
			e.str(mStars)
		} else {
			e.str(mDetect)
		}
		return
	case "title", "alt", "placeholder", "aria-label", "aria-description", "aria-valuetext", "label", "content", "summary":
		if strict || hidden {
			e.str(mStars)
		} else {
			e.str(mDetect)
		}
		return
	case "href":
		if tag == tagLink || mutation && r.Peek() == '"' && e.stylesheetURL() {
			r.Copy() // stylesheets and icons: masking would break the page's look
			return
		}
		e.str(mURL)
		return
	case "src", "srcset", "poster", "data", "background", "action", "formaction", "cite", "xlink:href":
		e.str(mDetect)
		return
	}
	if bytes.HasPrefix(name, []byte("on")) || mask.SensitiveKey(r.Key()) {
		e.str(mStars)
		return
	}
	e.str(mDetect)
}

// stylesheetURL reports, looking ahead, whether the string at the reader
// is the URL of a stylesheet.
func (e *Engine) stylesheetURL() bool {
	r := &e.r
	m := r.Mark()
	defer r.Restore(m)
	s, end, _ := r.String()
	u := r.In[s:end]
	for i := range u {
		if u[i] == '?' || u[i] == '#' {
			u = u[:i]
			break
		}
	}
	return len(u) >= 4 && equalFold(u[len(u)-4:], ".css")
}

// add walks one node added by a mutation.
func (e *Engine) add() {
	r := &e.r
	if r.Peek() != '{' {
		e.generic()
		return
	}
	parent := e.memberInt("parentId")
	ctx := nodeCtx{style: e.styleIDs[parent], masked: e.maskIDs[parent]}
	e.object(func(k []byte) {
		switch string(k) {
		case "node":
			e.node(ctx)
		case "parentId", "nextId", "previousId", "index":
			r.Copy()
		default:
			if cssKey(k) {
				r.Copy()
				return
			}
			e.generic()
		}
	})
}

// textMutation walks {id, value}: a text node's new content.
func (e *Engine) textMutation() {
	r := &e.r
	if r.Peek() != '{' {
		e.generic()
		return
	}
	id := e.memberInt("id")
	// The text node may sit in a <style> this batch has not seen: text
	// that looks like CSS is left alone unless the node is known masked.
	m := mDetectText
	switch {
	case e.styleIDs[id]:
		m = mCopy
	case e.maskIDs[id]:
		m = mStars
	case e.p.Masking.Strict:
		m = mStarsText
	}
	e.object(func(k []byte) {
		switch string(k) {
		case "value":
			e.str(m)
		case "id":
			r.Copy()
		default:
			e.generic()
		}
	})
}

// attributeMutation walks {id, attributes: {name: value}}.
func (e *Engine) attributeMutation() {
	r := &e.r
	if r.Peek() != '{' {
		e.generic()
		return
	}
	id := e.memberInt("id")
	hidden := e.maskIDs[id]
	e.object(func(k []byte) {
		switch string(k) {
		case "attributes":
			e.object(func(name []byte) {
				if r.Peek() == 'n' {
					r.Copy() // null: the attribute was removed
					return
				}
				e.attribute(name, tagOther, hidden, true)
			})
		case "id":
			r.Copy()
		default:
			e.generic()
		}
	})
}
