package sourcemap

import (
	"testing"

	gosourcemap "github.com/go-sourcemap/sourcemap"
)

func mustParse(t *testing.T, data []byte) *gosourcemap.Consumer {
	c, err := gosourcemap.Parse("", data)
	if err != nil {
		t.Fatalf("validated map does not parse: %v", err)
	}
	return c
}
