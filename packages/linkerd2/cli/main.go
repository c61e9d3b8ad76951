// Command linkerd is the Linkerd command line.
package main

import (
	"context"
	"os"
	"os/signal"

	"example.com/linkerd2/cli/cmd"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(cmd.Run(ctx, cmd.Env{Version: version, Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:]))
}
