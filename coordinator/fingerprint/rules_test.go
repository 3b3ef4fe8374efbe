package fingerprint

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name      string
		text      string
		fp, stack int
		canonical string
	}{
		{"empty", "", 0, 0, ""},
		{"comments and blanks", "# a comment\n\n   \t\n  # indented\n", 0, 0, ""},
		{"seed rule", `error.type:"TypeError" error.value:"*reading 'map'*" tags.url:"*/products*" -> products-map-undefined`, 1, 0,
			`error.type:"TypeError" error.value:"*reading 'map'*" tags.url:"*/products*" -> "products-map-undefined"` + "\n"},
		{"aliases, variables, title, CRLF", "type:ChunkLoadError   ->   chunk ,{{default}},  {{ tags.release }} title=\"Chunk {{ tags.release }}\"\r\n", 1, 0,
			`error.type:"ChunkLoadError" -> "chunk", {{ default }}, {{ tags.release }} title="Chunk {{ tags.release }}"` + "\n"},
		{"stack rules", "stack.module:\"vendor/*\" -app\nstack.abs_path:\"**/node_modules/**\" -app\nfunction:track* app:no +app # trailing comment", 0, 3,
			"stack.module:\"vendor/*\" -app\nstack.abs_path:\"**/node_modules/**\" -app\nstack.function:\"track*\" app:\"no\" +app\n"},
		{"escapes and negation", `!error.value:"say \"hi\" \\ now" family:JavaScript -> "quoted, part"`, 1, 0,
			`!error.value:"say \"hi\" \\ now" family:"javascript" -> "quoted, part"` + "\n"},
		{"bare value with quote inside", `message:it"s -> x`, 1, 0, `message:"it\"s" -> "x"` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Parse(c.text)
			if err != nil {
				t.Fatal(err)
			}
			if fp, st := r.Len(); fp != c.fp || st != c.stack {
				t.Errorf("Len() = %d, %d; want %d, %d", fp, st, c.fp, c.stack)
			}
			if got := r.String(); got != c.canonical {
				t.Errorf("String() =\n%s\nwant\n%s", got, c.canonical)
			}
			again, err := Parse(r.String())
			if err != nil || !reflect.DeepEqual(again, r) {
				t.Errorf("canonical form does not parse back to the same rules: %v", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name      string
		text      string
		line, col int
		msg       string
	}{
		{"unknown key", "error.typo:X -> a", 1, 1, `unknown matcher key "error.typo"`},
		{"missing colon", "error.type TypeError -> a", 1, 11, `expected ':' after "error.type", found ' '`},
		{"missing value", "error.type: -> a", 1, 12, `expected a value after "error.type:"`},
		{"unterminated quote", `error.value:"abc -> a`, 1, 13, `unterminated quoted string`},
		{"no arrow", "error.type:X", 1, 13, `expected '->' and a fingerprint, or an action (+app or -app), found end of line`},
		{"nothing after arrow", "error.type:X ->  ", 1, 18, `expected a fingerprint after '->'`},
		{"dangling comma", "error.type:X -> a,", 1, 19, `expected a fingerprint component after ','`},
		{"double comma", "error.type:X -> a,,b", 1, 19, `expected a fingerprint component, found ','`},
		{"unknown variable", "error.type:X -> {{ transaction }}", 1, 19, `unknown variable "transaction"`},
		{"unterminated variable", "error.type:X -> {{ default", 1, 17, `expected '}}'`},
		{"space missing between parts", "error.type:X -> a b", 1, 19, `expected ',' and another fingerprint component`},
		{"unknown attribute", `error.type:X -> a colour="red"`, 1, 19, `unknown attribute "colour"`},
		{"arrow without matchers", "-> a", 1, 1, `expected at least one matcher before '->'`},
		{"action without matchers", "+app", 1, 1, `expected at least one matcher before the action`},
		{"unknown action", "stack.module:x +group", 1, 16, `unknown action "+group"`},
		{"matcher after action", "stack.module:x -app app:yes", 1, 21, `expected an action (+app or -app), found 'a'`},
		{"range action", "stack.module:x ^-app", 1, 16, `range actions`},
		{"bad app value", "app:maybe -app", 1, 5, `app matcher takes yes or no`},
		{"bad family", "family:cobol -> x", 1, 8, `family matcher takes`},
		{"error on a later line, column in characters", "# ok\nerror.type:X -> a\nerror.value:\"ünï\"x -> b", 3, 18, `expected a space after the closing quote`},
		{"empty tag name", "tags.:x -> a", 1, 1, `expected a tag name`},
		{"default in title", `error.type:X -> a title="{{ default }}"`, 1, 25, `title: {{ default }} is a fingerprint`},
		{"title twice", `error.type:X -> a title=x title=y`, 1, 27, `title is set twice`},
		{"app twice", `app:yes -app +app`, 1, 14, `the app flag is set twice`},
		{"attribute before component", `error.type:X -> title="x"`, 1, 17, `found attribute`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.text)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, want a *SyntaxError", c.text, err)
			}
			if se.Line != c.line || se.Column != c.col || !strings.Contains(se.Msg, c.msg) {
				t.Errorf("got line %d column %d %q; want line %d column %d containing %q", se.Line, se.Column, se.Msg, c.line, c.col, c.msg)
			}
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	if _, err := Parse(strings.Repeat("#", MaxRulesBytes+1)); err == nil {
		t.Error("oversized rules accepted")
	}
	if _, err := Parse(strings.Repeat("app:yes -app\n", MaxRules+1)); err == nil || !strings.Contains(err.Error(), "more than 500 rules") {
		t.Errorf("too many rules: %v", err)
	}
	if _, err := Parse("error.value:" + strings.Repeat("x", 2000) + " -> a"); err == nil {
		t.Error("oversized value accepted")
	}
	if _, err := Parse("app:yes -app\nerror.type:\xff -> a"); err == nil || err.(*SyntaxError).Line != 2 {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

// FuzzParse: Parse never panics on any input, and accepted rules format to
// a canonical text that parses back to the same rules.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.rules")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(`error.type:"TypeError" error.value:"*reading 'map'*" tags.url:"*/products*" -> products-map-undefined`)
	f.Add(`stack.abs_path:"**/node_modules/**" -app`)
	f.Add(`!message:"a\"b" -> {{ default }}, {{ tags.x }} title="{{ error.type }}"`)
	f.Fuzz(func(t *testing.T, text string) {
		r, err := Parse(text)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Column < 1 {
				t.Fatalf("error %v is not a positioned *SyntaxError", err)
			}
			return
		}
		canon := r.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", canon, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form is not stable:\n%s\n%s", canon, again.String())
		}
		ev := mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)
		if res := r.Group(ev); len(res.Hashes) == 0 {
			t.Fatal("no hashes")
		}
	})
}
