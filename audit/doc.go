// Package audit reads hmisauth's tamper-evident audit log: Verify walks the hash chain and
// names the first event that was edited, deleted or moved; Export writes the log as CSV or
// JSON for an auditor or another system.
//
// The log is written by the Store itself, in the transaction of each change it records
// (hmisauth.WithEvent), and chained by hmisauth.EventHash; this package only reads it, through
// the Store's EachEvent, so it works the same on every backend. It must not import store/,
// auth/ or web/.
//
// The chain proves the log is consistent with itself. Someone able to write to the database
// can still delete the newest events, or rewrite the chain from some event on, without a
// trace inside it; an Anchor — an event's ID and hash recorded where they cannot write, from
// an earlier Report — closes that gap up to the anchored event.
package audit
