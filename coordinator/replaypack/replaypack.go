// Package replaypack packs the replay segments of a session into one object
// compressed with the whole session as context, and reads them back.
//
// Segments arrive every few seconds and are stored on their own while a
// session is live; compressed alone, each pays again for the vocabulary
// its predecessors already taught the compressor (rrweb's keys, the page's
// tags and classes). A packed session is compressed once, brotli quality
// 11 with a 4 MiB window, so every segment's text is context for the next,
// and as if a vocabulary of rrweb's events, HTML and CSS came first (a
// shared dictionary: the andybalholm/brotli encoder takes none, so the
// vocabulary is compressed and flushed first and only what follows is
// stored). Before compressing, the events' absolute timestamps are
// rewritten as deltas from the previous event (13 digits each become two
// or three): the one part of rrweb's stream that never repeats. Each is
// measured in BENCHMARKS.md ("Replay storage"): on the TodoMVC sessions
// the vocabulary saves 7-9 %, the deltas 2 %; zstd at its best level with
// the same dictionary is 35 % larger than brotli 11 without.
//
// An object is the magic "RVP", a format byte, and a brotli stream. Format
// 1 holds the segments' bytes as they were, format 2 them with delta
// timestamps, used only when the rewrite gives back every byte (Pack
// checks); formats 3 and 4 are 1 and 2 after the vocabulary, what Pack
// makes unless this encoder's prefix for the vocabulary differs from the
// committed one. Offsets (Span) always refer to the original bytes.
package replaypack

import (
	"bytes"
	_ "embed" // the vocabulary and its compressed form
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/andybalholm/brotli"
)

// vocabulary is text a session's replay is likely to repeat from its first
// bytes on: rrweb's events and nodes in its key order, common tags and
// attributes, CSS as the CSSOM serialises it. None of it is taken from a
// page we measure. Packs of formats 3 and 4 are compressed as if it came
// first, so the first full snapshot already finds matches.
//
//go:embed vocabulary.txt
var vocabulary []byte

// vocabularyPrefix is the brotli stream of vocabulary, flushed (the
// encoder's output before a pack's own bytes). Packs store only what follows
// it; reading one feeds this prefix to the decoder first. It is committed
// so that packs stay readable whatever a later brotli encoder would emit;
// TestVocabularyPrefix checks it against this one (-update rewrites it).
//
//go:embed vocabulary.br
var vocabularyPrefix []byte

// Span is where one segment's bytes lie in the unpacked session.
type Span struct {
	Offset int64
	Len    int64
}

// MaxUnpacked bounds what Unpack inflates: a session larger than this was
// never packed (Pack refuses it), so a larger stream is corrupt or hostile.
const MaxUnpacked = 256 << 20

const (
	formatPlain      = 1 // the segments as they were
	formatDelta      = 2 // timestamps as deltas
	formatVocabPlain = 3 // 1, after the vocabulary
	formatVocabDelta = 4 // 2, after the vocabulary
	quality          = 11
	lgwin            = 24
	// vocabLGWin is the window of the vocabulary formats: fixed, since the
	// prefix's stream header names it.
	vocabLGWin = 22
)

var magic = []byte("RVP")

// ErrCorrupt is returned for an object that is not a well-formed pack.
var ErrCorrupt = errors.New("corrupt replay pack")

// Pack compresses segments, in order, into one object and returns it with
// each segment's span in the unpacked bytes.
func Pack(segments [][]byte) ([]byte, []Span, error) {
	var all bytes.Buffer
	spans := make([]Span, len(segments))
	for i, s := range segments {
		spans[i] = Span{Offset: int64(all.Len()), Len: int64(len(s))}
		all.Write(s)
	}
	if all.Len() > MaxUnpacked {
		return nil, nil, fmt.Errorf("pack: %d bytes of segments exceed %d", all.Len(), MaxUnpacked)
	}
	raw := all.Bytes()
	format, body := byte(formatPlain), raw
	if d, ok := toDeltas(segments); ok {
		if back, err := fromDeltas(d); err == nil && bytes.Equal(back, raw) {
			format, body = formatDelta, d
		}
	}
	if obj, err := packAfterVocabulary(format+2, body); err == nil {
		return obj, spans, nil
	}
	var out bytes.Buffer
	out.Write(magic)
	out.WriteByte(format)
	// A window larger than the session buys nothing and costs memory and
	// time to set up.
	win := 10
	for win < lgwin && 1<<win < len(body) {
		win++
	}
	w := brotli.NewWriterOptions(&out, brotli.WriterOptions{Quality: quality, LGWin: win})
	if _, err := w.Write(body); err != nil {
		return nil, nil, fmt.Errorf("pack: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, nil, fmt.Errorf("pack: %w", err)
	}
	return out.Bytes(), spans, nil
}

// errPrefix says this encoder does not emit the committed prefix for the
// vocabulary: then a pack is made without it.
var errPrefix = errors.New("vocabulary prefix differs")

// packAfterVocabulary compresses the vocabulary, flushes, compresses body
// and keeps what came after the flush.
func packAfterVocabulary(format byte, body []byte) ([]byte, error) {
	var out bytes.Buffer
	w := brotli.NewWriterOptions(&out, brotli.WriterOptions{Quality: quality, LGWin: vocabLGWin})
	if _, err := w.Write(vocabulary); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if !bytes.Equal(out.Bytes(), vocabularyPrefix) {
		return nil, errPrefix
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	obj := append(append(append([]byte{}, magic...), format), out.Bytes()[len(vocabularyPrefix):]...)
	return obj, nil
}

// VocabularyPrefix returns the brotli stream this encoder emits for the
// vocabulary before a pack's bytes; tests compare it with the committed one.
func VocabularyPrefix() ([]byte, error) {
	var out bytes.Buffer
	w := brotli.NewWriterOptions(&out, brotli.WriterOptions{Quality: quality, LGWin: vocabLGWin})
	if _, err := w.Write(vocabulary); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Unpack returns the concatenated bytes of every segment in a pack read
// from r; a segment is the slice its Span names.
func Unpack(r io.Reader) ([]byte, error) {
	head := make([]byte, 4)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("unpack: header: %w", ErrCorrupt)
	}
	if !bytes.Equal(head[:3], magic) {
		return nil, fmt.Errorf("unpack: bad magic: %w", ErrCorrupt)
	}
	var br io.Reader
	switch head[3] {
	case formatPlain, formatDelta:
		br = brotli.NewReader(r)
	case formatVocabPlain, formatVocabDelta:
		br = brotli.NewReader(io.MultiReader(bytes.NewReader(vocabularyPrefix), r))
		voc := make([]byte, len(vocabulary))
		if _, err := io.ReadFull(br, voc); err != nil || !bytes.Equal(voc, vocabulary) {
			return nil, fmt.Errorf("unpack: vocabulary: %w", ErrCorrupt)
		}
	default:
		return nil, fmt.Errorf("unpack: format %d: %w", head[3], ErrCorrupt)
	}
	body, err := io.ReadAll(io.LimitReader(br, MaxUnpacked+1))
	if err != nil {
		return nil, fmt.Errorf("unpack: %w: %v", ErrCorrupt, err)
	}
	if len(body) > MaxUnpacked {
		return nil, fmt.Errorf("unpack: over %d bytes: %w", MaxUnpacked, ErrCorrupt)
	}
	if head[3] == formatPlain || head[3] == formatVocabPlain {
		return body, nil
	}
	out, err := fromDeltas(body)
	if err != nil {
		return nil, fmt.Errorf("unpack: %w: %v", ErrCorrupt, err)
	}
	return out, nil
}

// Slice returns span's bytes of an unpacked session, or ErrCorrupt when
// the span lies outside it.
func Slice(unpacked []byte, s Span) ([]byte, error) {
	if s.Offset < 0 || s.Len < 0 || s.Offset+s.Len > int64(len(unpacked)) {
		return nil, fmt.Errorf("span %d+%d of %d bytes: %w", s.Offset, s.Len, len(unpacked), ErrCorrupt)
	}
	return unpacked[s.Offset : s.Offset+s.Len], nil
}

// tsKey ends every rrweb event as JSON.stringify writes it: timestamp is
// the last key the recorder sets.
var tsKey = []byte(`,"timestamp":`)

// toDeltas rewrites the last "timestamp" of every event (the elements of
// each segment's top-level array) as the difference to the previous one.
// It reports false when an event does not end that way; then the session
// is packed as it is.
func toDeltas(segments [][]byte) ([]byte, bool) {
	var out bytes.Buffer
	var prev int64
	for _, s := range segments {
		if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
			return nil, false
		}
		out.WriteByte('[')
		ok := eachEvent(s[1:len(s)-1], func(ev []byte, last bool) bool {
			k := bytes.LastIndex(ev, tsKey)
			if k < 0 || ev[len(ev)-1] != '}' {
				return false
			}
			digits := ev[k+len(tsKey) : len(ev)-1]
			n, err := strconv.ParseInt(string(digits), 10, 64)
			if err != nil || strconv.FormatInt(n, 10) != string(digits) {
				return false
			}
			out.Write(ev[:k+len(tsKey)])
			out.WriteString(strconv.FormatInt(n-prev, 10))
			out.WriteByte('}')
			if !last {
				out.WriteByte(',')
			}
			prev = n
			return true
		})
		if !ok {
			return nil, false
		}
		out.WriteByte(']')
	}
	return out.Bytes(), true
}

// fromDeltas undoes toDeltas.
func fromDeltas(d []byte) ([]byte, error) {
	out := make([]byte, 0, len(d)+len(d)/8)
	var prev int64
	for len(d) > 0 {
		end, err := arrayEnd(d)
		if err != nil {
			return nil, err
		}
		s := d[:end]
		d = d[end:]
		out = append(out, '[')
		var bad error
		eachEvent(s[1:len(s)-1], func(ev []byte, last bool) bool {
			k := bytes.LastIndex(ev, tsKey)
			if k < 0 || ev[len(ev)-1] != '}' {
				bad = errors.New("event without a timestamp")
				return false
			}
			n, err := strconv.ParseInt(string(ev[k+len(tsKey):len(ev)-1]), 10, 64)
			if err != nil {
				bad = fmt.Errorf("timestamp: %w", err)
				return false
			}
			prev += n
			out = append(out, ev[:k+len(tsKey)]...)
			out = strconv.AppendInt(out, prev, 10)
			out = append(out, '}')
			if !last {
				out = append(out, ',')
			}
			return true
		})
		if bad != nil {
			return nil, bad
		}
		out = append(out, ']')
	}
	return out, nil
}

// structural calls fn with the index and depth after it of every
// bracket, brace and comma of d outside strings, until fn returns false;
// it reports whether d ended first.
func structural(d []byte, fn func(i int, c byte, depth int) bool) bool {
	depth, inStr := 0, false
	for i := 0; i < len(d); i++ {
		c := d[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
			continue
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
		default:
			continue
		}
		if !fn(i, c, depth) {
			return false
		}
	}
	return true
}

// arrayEnd returns the length of the JSON array at the start of d.
func arrayEnd(d []byte) (int, error) {
	if len(d) == 0 || d[0] != '[' {
		return 0, errors.New("segment is not an array")
	}
	end := 0
	structural(d, func(i int, c byte, depth int) bool {
		if depth == 0 && c != ',' {
			end = i + 1
			return false
		}
		return true
	})
	if end == 0 {
		return 0, errors.New("unterminated segment")
	}
	return end, nil
}

// eachEvent calls fn with every top-level element of the array body b
// (the bytes between its brackets), split at commas outside strings and
// nesting, until fn returns false; it reports whether every call returned
// true. An empty body has no elements.
func eachEvent(b []byte, fn func(ev []byte, last bool) bool) bool {
	if len(b) == 0 {
		return true
	}
	start := 0
	if !structural(b, func(i int, c byte, depth int) bool {
		if c != ',' || depth != 0 {
			return true
		}
		if i == start || !fn(b[start:i], false) {
			return false
		}
		start = i + 1
		return true
	}) {
		return false
	}
	if start >= len(b) {
		return false
	}
	return fn(b[start:], true)
}
