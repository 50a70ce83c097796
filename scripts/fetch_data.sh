#!/usr/bin/env bash
# Downloads the full public data sets the docs use into $NORMFIELD_DATA (default ../shared/data
# next to the repository), verifies SHA-256 checksums, resumes partial downloads, unpacks archives.
#
#   bash scripts/fetch_data.sh [--dest DIR] [--manifest FILE] [--list] [SET ...]
#
# SETs (default: all): kodak meshes nerf_synthetic nerf_lego dtu — see scripts/data_manifest.tsv.
# Checksums: a manifest value is verified; UNKNOWN means no published checksum — the first complete
# download's SHA-256 is recorded in DEST/.fetch/recorded.sha256 (said so on screen) and every later
# run verifies against it. Partial downloads stay as FILE.part and are resumed by the next run; a
# resumed file that fails verification is fetched again from scratch once. An unreachable source is
# reported by name; the other sets still download, and the exit status is 1.
# Tests need none of this (they use the shipped tests/data).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${NORMFIELD_DATA:-$here/../../shared/data}"
manifest="$here/data_manifest.tsv"
list=0
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) dest="$2"; shift 2 ;;
    --manifest) manifest="$2"; shift 2 ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fetch_data: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) sets+=("$1"); shift ;;
  esac
done
[ -f "$manifest" ] || { echo "fetch_data: $manifest: no such manifest" >&2; exit 2; }
known_sets=$(grep -v '^#' "$manifest" | awk -F'\t' 'NF>=4{print $1}' | sort -u | tr '\n' ' ')
for s in "${sets[@]+"${sets[@]}"}"; do
  case " $known_sets " in *" $s "*) ;; *) echo "fetch_data: unknown set '$s' (known: $known_sets)" >&2; exit 2 ;; esac
done
if [ $list -eq 1 ]; then
  grep -v '^#' "$manifest" | awk -F'\t' 'NF>=4{printf "%-15s %-40s %s\n", $1, $2, $4}'
  exit 0
fi
if command -v curl >/dev/null; then downloader=curl
elif command -v wget >/dev/null; then downloader=wget
else echo "fetch_data: needs curl or wget (apt-get install curl)" >&2; exit 2; fi

mkdir -p "$dest/.fetch" || { echo "fetch_data: cannot create $dest/.fetch (set NORMFIELD_DATA or --dest to a writable folder)" >&2; exit 2; }
dest="$(cd "$dest" && pwd)"
recorded="$dest/.fetch/recorded.sha256"
touch "$recorded"
echo "fetch_data: into $dest ($downloader)"

failures=()
# download URL PART: appends to PART if it exists (resume). Prints curl's/wget's reason on failure.
download() {
  local url="$1" part="$2" rc
  if [ "$downloader" = curl ]; then
    curl -fL --retry 2 --connect-timeout 20 -sS -C - -o "$part" "$url"
    rc=$?
    # 33: the server cannot resume (or the part is already complete); 36: bad resume offset.
    [ $rc -eq 0 ] && return 0
    echo "curl exit $rc"; return $rc
  else
    wget -q -c --tries=3 --timeout=20 -O "$part" "$url"
    rc=$?; [ $rc -eq 0 ] && return 0
    echo "wget exit $rc"; return $rc
  fi
}
reason_of() {  # curl/wget exit code -> words
  case "$1" in
    6) echo "cannot resolve host" ;; 7) echo "cannot connect" ;; 28) echo "timed out" ;;
    22) echo "HTTP error (the file may have moved)" ;; 37) echo "cannot read the file" ;;
    35|60) echo "TLS failure" ;; 52|56) echo "connection dropped" ;;
    4) echo "network failure (wget)" ;; 8) echo "server error (wget)" ;;
    *) echo "download failed (exit $1)" ;;
  esac
}
expected_of() {  # REL MANIFEST_SUM -> expected checksum or empty
  if [ "$2" != UNKNOWN ]; then echo "$2"; return; fi
  awk -v f="$1" '$2==f{print $1}' "$recorded" | tail -n1
}
record() {  # REL SUM
  awk -v f="$1" '$2!=f' "$recorded" > "$recorded.tmp" && mv "$recorded.tmp" "$recorded"
  printf '%s  %s\n' "$2" "$1" >> "$recorded"
  echo "  note: no published checksum for $1: recorded sha256 $2 in $recorded;"
  echo "        later runs verify against it (pin it in the manifest to share it)"
}
unpack() {  # FILE INTO
  local file="$1" into="$2" stamp
  stamp="$into/.unpacked-$(basename "$file")"
  [ -f "$stamp" ] && return 0
  mkdir -p "$into"
  echo "  unpacking $(basename "$file") into $into"
  case "$file" in
    *.zip) if command -v unzip >/dev/null; then unzip -q -o "$file" -d "$into"
           else python3 -m zipfile -e "$file" "$into"; fi ;;
    *.tar.gz|*.tgz) tar -xzf "$file" -C "$into" ;;
    *.gz) gzip -dc "$file" > "$into/$(basename "${file%.gz}")" ;;
    *) cp "$file" "$into/" ;;
  esac || { echo "  ERROR: cannot unpack $file"; return 1; }
  touch "$stamp"
}

fetch_one() {  # SET REL SUM URL [INTO]
  local set="$1" rel="$2" sum="$3" url="$4" into="${5:-}"
  local final="$dest/$rel" part="$dest/$rel.part" expected got out resumed=0 attempt
  expected=$(expected_of "$rel" "$sum")
  mkdir -p "$(dirname "$final")"
  if [ -f "$final" ]; then
    got=$(sha256sum "$final" | cut -d' ' -f1)
    if [ -z "$expected" ]; then record "$rel" "$got"
    elif [ "$got" != "$expected" ]; then
      echo "  ERROR: $rel: checksum mismatch (have $got, expected $expected); delete it and rerun"
      failures+=("$rel (checksum)"); return
    else echo "  ok $rel (verified, already here)"; fi
  else
    for attempt in 1 2; do
      if [ -s "$part" ]; then
        resumed=1; echo "  resuming $rel from $(stat -c %s "$part") bytes: $url"
      else
        resumed=0; echo "  downloading $rel: $url"
      fi
      if ! out=$(download "$url" "$part" 2>&1); then
        local rc; rc=$(echo "$out" | sed -n 's/.*exit \([0-9]*\)$/\1/p' | tail -n1)
        echo "  ERROR: $set: source unreachable: $url: $(reason_of "${rc:-1}")"
        [ -n "$out" ] && echo "         ($(echo "$out" | head -n1))"
        [ -s "$part" ] && echo "         partial download kept: $part ($(stat -c %s "$part") bytes); rerun to resume"
        failures+=("$rel (unreachable)"); return
      fi
      got=$(sha256sum "$part" | cut -d' ' -f1)
      if [ -n "$expected" ] && [ "$got" != "$expected" ]; then
        if [ $resumed -eq 1 ] && [ $attempt -eq 1 ]; then
          echo "  resumed $rel failed verification (got $got); downloading it again from scratch"
          rm -f "$part"; continue
        fi
        mv -f "$part" "$final.bad"
        echo "  ERROR: $rel: checksum mismatch (got $got, expected $expected); kept as $final.bad"
        failures+=("$rel (checksum)"); return
      fi
      break
    done
    [ -z "$expected" ] && record "$rel" "$got"
    mv -f "$part" "$final"
    echo "  ok $rel ($(stat -c %s "$final") bytes, sha256 $got)"
  fi
  if [ -n "$into" ]; then unpack "$final" "$dest/$into" || failures+=("$rel (unpack)"); fi
}

while IFS=$'\t' read -r set rel sum url into; do
  case "$set" in ''|'#'*) continue ;; esac
  if [ ${#sets[@]} -gt 0 ]; then
    case " ${sets[*]} " in *" $set "*) ;; *) continue ;; esac
  fi
  fetch_one "$set" "$rel" "$sum" "$url" "$into"
done < "$manifest"

if [ ${#failures[@]} -gt 0 ]; then
  echo "fetch_data: ${#failures[@]} failed: ${failures[*]}"
  exit 1
fi
cat <<EOF
fetch_data: done. Next:
  export NORMFIELD_DATA=$dest
  # the docs' downscaled scenes (lego_100: 800 px / 8; DTU 1600x1200 / 4):
  ./build/normfield prepare-scene --downscale 8 --in \$NORMFIELD_DATA/nerf_synthetic/full/nerf_synthetic/lego --out \$NORMFIELD_DATA/nerf_synthetic/lego_100
  ./build/normfield prepare-scene --downscale 4 --in \$NORMFIELD_DATA/dtu/neus/public_data/dtu_scan65 --out \$NORMFIELD_DATA/dtu/dtu_scan65_400x300
  cmake -S . -B build && ctest --test-dir build -L fulldata   # checks the full sets
EOF
