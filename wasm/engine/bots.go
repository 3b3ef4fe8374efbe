package engine

import (
	"encoding/binary"
	"strconv"

	"github.com/rearview-dev/rearview/wasm/jsontext"

	"github.com/rearview-dev/rearview/wasm/noise"
	"github.com/rearview-dev/rearview/wasm/policy"
)

// SetBots makes l the list of bot patterns e checks User-Agents against;
// nil means the built-in list (noise.Builtin). A compiled list is
// immutable: hosts that run engines natively share one.
func (e *Engine) SetBots(l *noise.BotList) { e.botList = l }

func (e *Engine) bots() *noise.BotList {
	if e.botList == nil {
		return noise.Builtin()
	}
	return e.botList
}

// botMemo remembers the last User-Agent checked: a session's batches
// come one after another with the same one, and under wasm the check
// costs about 1 % of a 50-event batch.
type botMemo struct {
	ua   []byte
	p    *policy.Resolved
	list *noise.BotList
	bot  bool
}

// bot reports whether ua is a bot under policy p.
func (e *Engine) bot(p *policy.Resolved, ua []byte) bool {
	m := &e.botMemo
	l := e.bots()
	if m.p == p && m.list == l && len(m.ua) == len(ua) && string(m.ua) == string(ua) && m.ua != nil {
		return m.bot
	}
	m.bot = l.Bot(ua, p.Bots.Allow, p.Bots.Extra)
	m.ua = append(m.ua[:0], ua...)
	m.p, m.list = p, l
	return m.bot
}

// HandleBots compiles a bot list document (see noise.ParseBotList; empty
// means the built-in list) and makes it e's list, for the module's bots
// export. The response is an envelope like Handle's, with no batch and the
// report {"patterns": n}; a list that does not compile is refused with
// status 1 and the previous list kept.
func (e *Engine) HandleBots(doc []byte) []byte {
	l := noise.Builtin()
	if len(doc) > 0 {
		var err error
		if l, err = noise.CompileBotList(doc); err != nil {
			return e.refuse(err)
		}
	}
	e.botList = l
	e.resp = append(e.resp[:0], ResponseMagic...)
	e.resp = binary.LittleEndian.AppendUint32(e.resp, StatusOK)
	e.resp = appendSection(e.resp, nil)
	rep := strconv.AppendInt([]byte(`{"patterns":`), int64(l.Patterns()), 10)
	e.resp = appendSection(e.resp, append(rep, '}'))
	return e.resp
}

// refuse returns the response envelope refusing a request with err, as
// Handle writes it.
func (e *Engine) refuse(err error) []byte {
	e.resp = append(e.resp[:0], ResponseMagic...)
	e.resp = binary.LittleEndian.AppendUint32(e.resp, StatusBadInput)
	e.resp = appendSection(e.resp, nil)
	msg := jsontext.AppendQuoted([]byte(`{"error":`), []byte(err.Error()))
	e.resp = appendSection(e.resp, append(msg, '}'))
	return e.resp
}
