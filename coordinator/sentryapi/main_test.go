package sentryapi_test

import (
	"os"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/store/storetest"
)

// The database tests run on SQLite, and on Postgres when
// REARVIEW_TEST_DATABASE=postgres (see storetest).
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
