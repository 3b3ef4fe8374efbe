package sdkproto

import (
	"fmt"
	"strconv"
	"strings"
)

// scanFrame is one open object or array while walking JSON bytes.
type scanFrame struct {
	array bool
	index int
	key   []byte
}

// walk runs over syntactically valid JSON and enforces the depth and string
// limits, reporting the JSON path of the first violation. With stopAt >= 0 it
// instead returns the path of the value at that byte offset, which turns
// encoding/json's offsets into paths a person can read. It allocates only to
// build a path.
func walk(data []byte, lim Limits, stopAt int) (string, *DecodeError) {
	stack := make([]scanFrame, 0, 32)
	expectKey := false
	for i := 0; i < len(data); i++ {
		if stopAt >= 0 && i >= stopAt {
			return pathOf(stack), nil
		}
		switch c := data[i]; c {
		case '"':
			start := i + 1
			j := start
			for j < len(data) && data[j] != '"' {
				if data[j] == '\\' {
					j++
				}
				j++
			}
			if j > len(data) {
				j = len(data)
			}
			if stopAt >= 0 && j >= stopAt {
				return pathOf(stack), nil
			}
			if expectKey && len(stack) > 0 {
				stack[len(stack)-1].key = data[start:j]
				expectKey = false
			} else if lim.MaxString > 0 && j-start > lim.MaxString {
				return "", &DecodeError{Code: CodeTooLong, Path: pathOf(stack), Msg: fmt.Sprintf("string of %d bytes exceeds %d", j-start, lim.MaxString)}
			}
			i = j
		case '{', '[':
			if lim.MaxDepth > 0 && len(stack) >= lim.MaxDepth {
				return "", &DecodeError{Code: CodeTooDeep, Path: pathOf(stack), Msg: fmt.Sprintf("nesting exceeds depth %d", lim.MaxDepth)}
			}
			stack = append(stack, scanFrame{array: c == '['})
			expectKey = c == '{'
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectKey = false
		case ',':
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				if top.array {
					top.index++
				} else {
					expectKey = true
				}
			}
		}
	}
	return pathOf(stack), nil
}

func pathOf(stack []scanFrame) string {
	var b strings.Builder
	for _, f := range stack {
		if f.array {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(f.index))
			b.WriteByte(']')
			continue
		}
		if f.key == nil {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.Write(f.key)
	}
	return b.String()
}

// pathAt returns the JSON path of the value at byte offset off in data.
func pathAt(data []byte, off int) string {
	if off < 0 {
		off = 0
	}
	p, _ := walk(data, Limits{}, off)
	return p
}

// joinPath prefixes a path found inside a sub-document with where that
// sub-document sits.
func joinPath(prefix, p string) string {
	switch {
	case p == "":
		return prefix
	case prefix == "":
		return p
	case p[0] == '[':
		return prefix + p
	}
	return prefix + "." + p
}
