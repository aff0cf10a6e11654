// Package sysinfo reads and adjusts process limits the operator must see:
// file descriptors in use and their limit. A server stuck at ~500
// connections because of the default soft RLIMIT_NOFILE (1024) is a known
// broadcast failure; raising the soft limit to the hard one at start removes
// it without root.
package sysinfo
