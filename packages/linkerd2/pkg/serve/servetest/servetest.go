// Package servetest starts a server's run function in-process on an
// ephemeral port and stops it again, with every wait bounded.
package servetest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/linkerd2/pkg/serve"
)

// StartTimeout bounds the wait for the "listening on" line.
const StartTimeout = 10 * time.Second

// Running is a server started by Start.
type Running struct {
	Addr   string // host:port it bound
	cancel context.CancelFunc
	exit   chan int
	log    *Buffer
}

// Start calls run in a goroutine and waits until it reports its address.
func Start(t *testing.T, run func(ctx context.Context, stderr io.Writer) int) *Running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{cancel: cancel, exit: make(chan int, 1), log: &Buffer{}}
	go func() { r.exit <- run(ctx, r.log) }()
	t.Cleanup(func() { r.Stop(t) })

	deadline := time.After(StartTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr := ListeningAddr(r.log.String()); addr != "" {
			r.Addr = addr
			return r
		}
		select {
		case code := <-r.exit:
			r.exit <- code
			t.Fatalf("server exited with %d before listening:\n%s", code, r.log)
		case <-deadline:
			t.Fatalf("server did not report its address within %v:\n%s", StartTimeout, r.log)
		case <-tick.C:
		}
	}
}

// Stop cancels the server's context and returns its exit code.
func (r *Running) Stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.exit:
		r.exit <- code // later calls see the same code
		return code
	case <-time.After(StartTimeout):
		t.Fatalf("server did not stop within %v:\n%s", StartTimeout, r.log)
		return -1
	}
}

// Log is what the server wrote to stderr so far.
func (r *Running) Log() string { return r.log.String() }

// ListeningAddr finds the address in a serve.Run "listening on" line.
func ListeningAddr(log string) string {
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		if _, addr, ok := strings.Cut(sc.Text(), serve.ListeningPrefix); ok {
			return strings.TrimSpace(addr)
		}
	}
	return ""
}

// Buffer is a bytes.Buffer safe for one writer and concurrent readers.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
