// Package fourthcloud holds, in its tests only, a tiny in-memory cloud registered the way a
// real vendor package registers itself (clients.Register from init). Its acceptance test runs
// the provider with that cloud and nothing else: it proves that a new cloud reaches the
// provider's neutral resources (provider block, gpu_instance, ssh_key, offers, import) through
// its registration alone. CONTRIBUTING.md lists what else a real cloud adds.
package fourthcloud
