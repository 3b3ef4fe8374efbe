package symbolicate

// MaxResolveCache is how many positions one Map remembers, so that
// benchmarks can fill the cache and then measure the lookups it no longer
// answers.
const MaxResolveCache = maxFuncCache
