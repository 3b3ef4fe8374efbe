package main

import "github.com/rearview-dev/rearview/sdkproto/browser"

// sdkScript is the browser SDK bundle the edge serves at /sdk/v1.js.
func sdkScript() []byte { return browser.Script() }
