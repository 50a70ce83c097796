#!/usr/bin/env bash
# scripts/fetch_data.sh on local file:// sources (no network): fresh download + checksum, skip when
# verified, resume of a partial download, a resumed part that is wrong gets fetched again, checksum
# mismatch refused, unreachable source named while the others still download, UNKNOWN checksums
# recorded on first download and enforced afterwards, archives unpacked.
set -uo pipefail
script="${1:?usage: test_fetch_data.sh path/to/fetch_data.sh}"
command -v curl >/dev/null || { echo "curl missing: fetch_data.sh's file:// path needs it"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$tmp/src"; dest="$tmp/dest"; mkdir -p "$src"
fails=0
check() {  # DESCRIPTION COMMAND...
  local d="$1"; shift
  if "$@"; then echo "ok   - $d"; else echo "FAIL - $d"; fails=$((fails + 1)); fi
}
contains() { grep -qF -- "$2" <<<"$1"; }

head -c 200000 /dev/urandom > "$src/big.bin"
echo "hello" > "$src/small.txt"
mkdir -p "$src/tree/sub" && echo "inside" > "$src/tree/sub/x.txt"
tar -czf "$src/arch.tar.gz" -C "$src/tree" sub
big_sum=$(sha256sum "$src/big.bin" | cut -d' ' -f1)
small_sum=$(sha256sum "$src/small.txt" | cut -d' ' -f1)
arch_sum=$(sha256sum "$src/arch.tar.gz" | cut -d' ' -f1)
man="$tmp/manifest.tsv"
{
  echo "# test manifest"
  printf 'a\tone/big.bin\t%s\tfile://%s\n' "$big_sum" "$src/big.bin"
  printf 'a\tone/small.txt\tUNKNOWN\tfile://%s\n' "$src/small.txt"
  printf 'b\tarch/arch.tar.gz\t%s\tfile://%s\tunpacked\n' "$arch_sum" "$src/arch.tar.gz"
} > "$man"
run() { bash "$script" --dest "$dest" --manifest "$man" "$@" 2>&1; }

# 1. fresh download: verified, UNKNOWN recorded, archive unpacked.
out=$(run); rc=$?
check "fresh run succeeds" test $rc -eq 0
check "big.bin downloaded intact" cmp -s "$src/big.bin" "$dest/one/big.bin"
check "no .part left" test ! -e "$dest/one/big.bin.part"
check "unknown checksum recorded" grep -q "$small_sum  one/small.txt" "$dest/.fetch/recorded.sha256"
check "recording is announced" contains "$out" "no published checksum for one/small.txt"
check "archive unpacked" test -f "$dest/unpacked/sub/x.txt"

# 2. second run: nothing downloaded, everything verified.
out=$(run); rc=$?
check "second run succeeds" test $rc -eq 0
check "second run downloads nothing" bash -c '! grep -q downloading <<<"$0"' "$out"
check "second run verifies" contains "$out" "ok one/big.bin (verified, already here)"

# 3. resume: a correct first half is completed, not restarted.
rm "$dest/one/big.bin"
head -c 80000 "$src/big.bin" > "$dest/one/big.bin.part"
out=$(run a); rc=$?
check "resume succeeds" test $rc -eq 0
check "resume announced at the part's size" contains "$out" "resuming one/big.bin from 80000 bytes"
check "resumed file intact" cmp -s "$src/big.bin" "$dest/one/big.bin"

# 4. a wrong partial file: resumed, fails verification, fetched again from scratch.
rm "$dest/one/big.bin"
head -c 80000 /dev/zero > "$dest/one/big.bin.part"
out=$(run a); rc=$?
check "bad part recovered" test $rc -eq 0
check "bad part detected" contains "$out" "failed verification"
check "refetched file intact" cmp -s "$src/big.bin" "$dest/one/big.bin"

# 5. recorded checksum enforced: a changed local file is refused.
echo "tampered" > "$dest/one/small.txt"
out=$(run a); rc=$?
check "tampered file fails the run" test $rc -ne 0
check "mismatch named" contains "$out" "one/small.txt: checksum mismatch"

# 6. wrong manifest checksum on a fresh download: refused, kept aside as .bad, not installed.
rm -rf "$dest"
sed "s/$big_sum/$(printf '0%.0s' {1..64})/" "$man" > "$tmp/bad.tsv"
out=$(bash "$script" --dest "$dest" --manifest "$tmp/bad.tsv" a 2>&1); rc=$?
check "mismatch fails the run" test $rc -ne 0
check "mismatch not installed" test ! -e "$dest/one/big.bin"
check "mismatch kept aside" test -f "$dest/one/big.bin.bad"

# 7. unreachable source: named clearly, the others still downloaded, exit 1.
rm -rf "$dest"
{
  printf 'c\tgone/nothing.bin\tUNKNOWN\tfile://%s/no-such-file\n' "$src"
  printf 'c\tgone/small.txt\t%s\tfile://%s\n' "$small_sum" "$src/small.txt"
} > "$tmp/gone.tsv"
out=$(bash "$script" --dest "$dest" --manifest "$tmp/gone.tsv" 2>&1); rc=$?
check "unreachable exits 1" test $rc -eq 1
check "unreachable named" contains "$out" "source unreachable: file://$src/no-such-file"
check "other file still fetched" test -f "$dest/gone/small.txt"
check "summary lists it" contains "$out" "1 failed: gone/nothing.bin (unreachable)"

# 8. unknown set name refused up front.
out=$(run nosuchset); rc=$?
check "unknown set refused" test $rc -eq 2
check "unknown set named" contains "$out" "unknown set 'nosuchset'"

if [ $fails -gt 0 ]; then echo "$fails check(s) failed"; echo "last output:"; echo "$out"; exit 1; fi
echo "all fetch_data checks passed"
