// Package e2e builds the real linkerd2 binaries and runs them against each
// other as separate processes on 127.0.0.1 ephemeral ports. Its tests live
// in e2e_test.go; this file only gives the directory a package.
package e2e
