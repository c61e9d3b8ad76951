// Package cmd is the linkerd command line: `linkerd version` and
// `linkerd check`, on cobra as Linkerd's own CLI is. It is a package, not
// main, so tests run the same code path the binary runs.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes: 1 when a check or request fails, 2 when the command is used wrongly.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// Name is the binary's name, as messages show it.
const Name = "linkerd"

// DefaultControllerURL is where `linkerd check` looks without --controller.
const DefaultControllerURL = "http://127.0.0.1:8085"

// Env is what the commands read and write.
type Env struct {
	Version string // the client's build version
	Stdout  io.Writer
	Stderr  io.Writer
}

// failure is a command that ran and failed (exit 1) after reporting why; any
// other error is a usage error (exit 2), which Run prints.
type failure struct{ err error }

func (f failure) Error() string { return f.err.Error() }

// Run executes one command line and returns its exit code.
func Run(ctx context.Context, env Env, args []string) int {
	root := newRootCmd(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var failed failure
	if errors.As(err, &failed) {
		return ExitFail
	}
	fmt.Fprintf(env.Stderr, "%s: %v\n", Name, err)
	if errors.Is(err, errNoCommand) {
		usage(env.Stderr)
	} else {
		fmt.Fprintf(env.Stderr, "Run %q for usage.\n", Name+" --help")
	}
	return ExitUsage
}

var errNoCommand = errors.New("no command given")

func newRootCmd(env Env) *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use:   Name,
		Short: "linkerd manages the Linkerd service mesh",
		// Run prints every error once, with the exit code it deserves.
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				return runVersion(cmd.Context(), env, versionOptions{timeout: defaultTimeout})
			}
			return errNoCommand
		},
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.Flags().BoolVar(&showVersion, "version", false, "print the client's version and platform (same as the version command)")
	// cobra reports a bad flag as a plain error; it is a usage error, as Run treats it.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newVersionCmd(env), newCheckCmd(env))
	return root
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `Usage:
  %[1]s version [--controller URL]   print the client's version and platform (and the controller's)
  %[1]s check [--controller URL]     check that the controller is reachable and healthy
Run "%[1]s <command> --help" for the flags of a command.
`, Name)
}

// exactlyNoArgs refuses positional arguments, naming the first one.
func exactlyNoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q (see %s --help)", args[0], cmd.CommandPath())
	}
	return nil
}
