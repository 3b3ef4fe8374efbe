package sdkproto

import (
	"encoding/json"
	"reflect"
	"testing"
)

// checkSplit is the differential check of SplitReplay against what the live
// hub did before it: json.Unmarshal into []json.RawMessage, then rrwebType on
// each event.
func checkSplit(t *testing.T, raw []byte) {
	t.Helper()
	events, types := SplitReplay(raw)
	var want []json.RawMessage
	var wantTypes []int
	if json.Unmarshal(raw, &want) != nil {
		want = nil
	}
	for _, e := range want {
		wantTypes = append(wantTypes, rrwebType(e))
	}
	if len(events) == 0 && len(want) == 0 {
		return // the hub ignores both alike
	}
	if !reflect.DeepEqual(events, want) || !reflect.DeepEqual(types, wantTypes) {
		t.Fatalf("SplitReplay(%q) = %q %v, want %q %v", raw, events, types, want, wantTypes)
	}
}

var splitCases = []string{
	`[{"type":4,"data":{"href":"h"},"timestamp":1},{"type":2,"data":{"node":{"type":0,"childNodes":[]}}},{"type":3,"data":{"source":2,"type":1}}]`,
	` [ {"type" : 2 } , {"data":{}} ] `,
	`[{"type":2,"type":4}]`,
	`[{"Type":2}]`,
	`[{"type":2,"TYPE":3}]`,
	`[{"t\u0079pe":2}]`,
	`[{"type":-1},{"type":1.5},{"type":1e1},{"type":"2"},{"type":null},{"type":99999999999}]`,
	`[1,"x",null,true,[]]`,
	`[]`,
	`null`,
	`{"type":2}`,
	`[{"type":2}`,
	`[{"type":2}] x`,
	`[{"type":2},]`,
	`[{"type":02}]`,
}

func TestSplitReplayMatchesEncodingJSON(t *testing.T) {
	for _, c := range splitCases {
		checkSplit(t, []byte(c))
	}
	events, types := SplitReplay([]byte(splitCases[0]))
	if len(events) != 3 || !reflect.DeepEqual(types, []int{4, 2, 3}) || string(events[0]) != `{"type":4,"data":{"href":"h"},"timestamp":1}` {
		t.Fatalf("got %q %v", events, types)
	}
}

func FuzzSplitReplay(f *testing.F) {
	for _, c := range splitCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkSplit(t, raw) })
}
