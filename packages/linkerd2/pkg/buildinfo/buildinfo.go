// Package buildinfo spells the build version and platform of a binary the same
// way in every linkerd2 command.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Platform is the OCI platform the running binary was built for: "linux/arm64",
// "linux/arm/v7". The arm variant is not in the ELF header, so it is read from
// the GOARM setting the Go toolchain records in the binary.
func Platform() string {
	return Format(runtime.GOOS, runtime.GOARCH, buildSetting("GOARM"))
}

// Format spells a platform the OCI way: arm carries its variant, other
// architectures carry none.
func Format(goos, goarch, goarm string) string {
	p := goos + "/" + goarch
	if goarch == "arm" && goarm != "" {
		p += "/v" + goarm
	}
	return p
}

// Line is what `<binary> --version` prints: "<binary> <version> <platform>".
func Line(binary, version string) string {
	return binary + " " + version + " " + Platform()
}

func buildSetting(key string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}
