package iptables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// RestoreCommand is the program that loads the rules.
const RestoreCommand = "iptables-restore"

// Restore loads rules with iptables-restore. --noflush keeps the nat rules
// that others (a CNI plugin, say) put in the pod's network namespace.
func Restore(ctx context.Context, rules string) error {
	path, err := exec.LookPath(RestoreCommand)
	if err != nil {
		return fmt.Errorf("%s not found in PATH (install iptables in the image, or pass --simulate to print the rules instead): %w", RestoreCommand, err)
	}
	cmd := exec.CommandContext(ctx, path, "--noflush")
	cmd.Stdin = strings.NewReader(rules)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		detail := strings.TrimSpace(output.String())
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && detail != "" {
			return fmt.Errorf("%s failed (%v): %s", path, err, detail)
		}
		return fmt.Errorf("%s failed: %w", path, err)
	}
	return nil
}
