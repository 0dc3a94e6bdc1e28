#!/usr/bin/env bash
# Follow the README's "Installing" section as a user would, into a prefix
# of our own (not /usr/local): `make install PREFIX=...`, then
# PKG_CONFIG_PATH, PATH and an rpath, and no LD_LIBRARY_PATH: the installed
# `corm gen`, the installed header, `pkg-config --cflags --libs corm`, and
# the program must find libcorm.so.0 by itself.  Usage: check-install.sh BUILD_DIR
set -eu
B=${1:?usage: check-install.sh BUILD_DIR}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
prefix="$root/prefix"
make --no-print-directory -s B="$B" install PREFIX="$prefix" >/dev/null
# as a user who has not read the section yet: both failures it names
unset LD_LIBRARY_PATH
if PKG_CONFIG_PATH= pkg-config --exists corm 2>/dev/null; then
  echo "install: pkg-config found a corm outside the prefix (is one installed system-wide?)" >&2
fi
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PATH="$prefix/bin:$PATH"
[ "$(command -v corm)" = "$prefix/bin/corm" ] || { echo "install: corm is not the installed one" >&2; exit 1; }
corm gen examples/bookstore.corm -o "$root/gen"
# sanitizer builds need their runtime at link time too
extra=""
case "$B" in *asan*) extra="-fsanitize=address,undefined" ;; esac
# (any build dir: a library built with SAN=1 references the ASan runtime)
nm "$B/libcorm.a" 2>/dev/null | grep -q ' U __asan_' && extra="-fsanitize=address,undefined"
cc -std=c11 -Wall -Wextra -Werror examples/quickstart.c "$root/gen/bookstore.c" -I"$root/gen" \
   $(pkg-config --cflags --libs corm) -Wl,-rpath,"$prefix/lib" -o "$root/quickstart" $extra
# the loader must find the installed libcorm.so.0 through the rpath alone
ldd "$root/quickstart" | grep -q "libcorm.so.0 => $prefix/lib/libcorm.so.0" ||
  { echo "install: the program does not load the installed libcorm.so.0" >&2; ldd "$root/quickstart" >&2; exit 1; }
out=$(cd "$root" && ./quickstart)
printf '%s\n' "$out"
case "$out" in
  *"The Dispossessed by Ursula K. Le Guin"*"(1 query)"*) echo "install: quickstart built against corm installed under a prefix of its own works" ;;
  *) echo "install: quickstart printed something unexpected" >&2; exit 1 ;;
esac
