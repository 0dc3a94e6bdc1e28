#!/usr/bin/env bash
# `make install` into a temporary root, then build the quickstart example
# the way a user would: the installed `corm gen`, the installed header and
# `pkg-config --cflags --libs corm`.  Usage: check-install.sh BUILD_DIR
set -eu
B=${1:?usage: check-install.sh BUILD_DIR}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
make --no-print-directory -s B="$B" install DESTDIR="$root" PREFIX=/usr >/dev/null
export PKG_CONFIG_PATH="$root/usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$root"
"$root/usr/bin/corm" gen examples/bookstore.corm -o "$root/gen"
# sanitizer builds need their runtime at link time too
extra=""
case "$B" in *asan*) extra="-fsanitize=address,undefined" ;; esac
# (any build dir: a library built with SAN=1 references the ASan runtime)
nm "$B/libcorm.a" 2>/dev/null | grep -q ' U __asan_' && extra="-fsanitize=address,undefined"
cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags corm) -I"$root/gen" \
   examples/quickstart.c "$root/gen/bookstore.c" -o "$root/quickstart" \
   $(pkg-config --libs corm) $extra
out=$(LD_LIBRARY_PATH="$root/usr/lib" "$root/quickstart")
printf '%s\n' "$out"
case "$out" in
  *"The Dispossessed by Ursula K. Le Guin"*"(1 query)"*) echo "install: quickstart built against the installed corm works" ;;
  *) echo "install: quickstart printed something unexpected" >&2; exit 1 ;;
esac
