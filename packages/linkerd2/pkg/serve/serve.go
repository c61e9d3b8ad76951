// Package serve runs an HTTP server the way every linkerd2 server needs it:
// it reports the address it really bound (so tests can ask for port 0) and
// shuts down cleanly when the context ends (SIGTERM from the kubelet).
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

const (
	readHeaderTimeout = 5 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// ListeningPrefix starts the line Run writes once it accepts connections,
// followed by the bound address. Tests read it to find an ephemeral port.
const ListeningPrefix = "listening on "

// Run serves h on addr until ctx is done, then drains open requests.
func Run(ctx context.Context, name, addr string, h http.Handler, log io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (is another server using it? pick another --addr): %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout}
	fmt.Fprintf(log, "%s %s%s\n", name, ListeningPrefix, ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintf(log, "%s stopped\n", name)
	return nil
}
