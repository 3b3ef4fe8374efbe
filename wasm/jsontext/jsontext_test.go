package jsontext

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSkipMatchesEncodingJSON(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `{"a":[1,-2.5e3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9"]}`, ` {"a" : { "b" : [ ] } } `,
		`{"a":1,}`, `[1,]`, `{"a" 1}`, `"abc`, `"a\qb"`, `"\u12"`, "\"a\x01b\"", `01`, `1.`, `1e`, `-`, `tru`,
		`{"a":1}x`, `{"a":1`, `[1 2]`, `{1:2}`, `"` + "\xff" + `"`, `1.5E+10`, `-0`, `{"a":{"b":{"c":[[[[]]]]}}}`,
	}
	for _, d := range docs {
		t.Run(d, func(t *testing.T) {
			var err error
			func() {
				defer Catch(&err)
				var r Reader
				r.Reset([]byte(d), nil)
				r.Copy()
				r.End()
				r.Flush()
				if string(r.Out) != strings.TrimSpace(d) {
					t.Errorf("Copy wrote %q", r.Out)
				}
			}()
			if want := json.Valid([]byte(d)); (err == nil) != want {
				t.Fatalf("valid=%v, encoding/json says %v (err %v)", err == nil, want, err)
			}
		})
	}
}

func TestUnescapeAndQuote(t *testing.T) {
	for _, s := range []string{`plain`, `q\"b\\s\/`, `\n\t\r\b\f`, `\u00e9\u2713`, `\ud83d\ude00`, `\ud83dx`, `\u0001`} {
		t.Run(s, func(t *testing.T) {
			var want string
			if err := json.Unmarshal([]byte(`"`+s+`"`), &want); err != nil {
				t.Fatal(err)
			}
			got := Unescape(nil, []byte(s))
			if string(got) != want {
				t.Fatalf("Unescape = %q want %q", got, want)
			}
			var back string
			if err := json.Unmarshal(AppendQuoted(nil, got), &back); err != nil || back != want {
				t.Fatalf("AppendQuoted round trip: %q %v", back, err)
			}
		})
	}
}
