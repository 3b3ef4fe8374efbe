package main

// sdkScript is the browser SDK bundle the edge serves at /sdk/v1.js.
func sdkScript() []byte { return nil }
