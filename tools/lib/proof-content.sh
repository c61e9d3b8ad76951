# shellcheck shell=bash
# The generated content of the big-image proofs (big-image.sh, big-deb.sh,
# gzip-blocks.sh): each MiB is 64 KiB of random bytes, then zeros. It
# compresses about 16:1, like binaries with large zeroed sections, and no two
# runs give the same bytes, so no cache can answer for them.

# write_proof_content PATH MIB: a real file of MIB MiB at PATH.
write_proof_content() {
  node -e '
    const fs = require("fs"), crypto = require("crypto");
    const [path, mib] = [process.argv[1], Number(process.argv[2])];
    const fd = fs.openSync(path, "w");
    const zeros = Buffer.alloc(1024 * 1024 - 65536);
    for (let i = 0; i < mib; i++) { fs.writeSync(fd, crypto.randomBytes(65536)); fs.writeSync(fd, zeros); }
    fs.closeSync(fd);
  ' "$1" "$2"
}
