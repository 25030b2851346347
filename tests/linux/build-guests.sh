#!/bin/bash
# build-guests.sh OUTBASE: the linux/build-guest test.  Builds the Debian
# guests with the standard workload into OUTBASE/debian and
# OUTBASE/debian-pae (guests/debian/make-guest.sh; cached, so a rerun is
# quick).  Exit: 0 built, 77 skip (Debian's package registry cannot be
# reached: make-guest.sh exited 3), anything else fails.
set -u
[ $# -eq 1 ] || { echo "usage: $0 OUTBASE" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
make_guest=$here/../../guests/debian/make-guest.sh
for v in debian debian-pae; do
	opts=(--workload "$here/workload.sh")
	[ $v = debian-pae ] && opts+=(--pae)
	bash "$make_guest" "${opts[@]}" "$1/$v"
	rc=$?
	case $rc in
	0) echo "built $1/$v: $(tr '\n' ';' <"$1/$v/packages")" ;;
	3) echo "SKIP: make-guest.sh could not reach Debian's package registry (see above)"; exit 77 ;;
	*) echo "FAIL: make-guest.sh $v exited $rc"; exit 1 ;;
	esac
done
