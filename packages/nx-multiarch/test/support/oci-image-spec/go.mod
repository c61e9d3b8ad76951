// The one pin of the OCI image-spec whose JSON schemas (its schema/ folder)
// the tests validate documents against; test/support/oci-schemas.ts fetches
// the module through the Go module proxy with `go mod download -json`, and
// go.sum checks what arrives. No Go code builds here.
module example.com/nx-multiarch/oci-image-spec

go 1.21

require github.com/opencontainers/image-spec v1.1.1
