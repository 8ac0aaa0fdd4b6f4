#!/usr/bin/env bash
# Writes the capture frames of captures.md into the fuzz corpora (re-runnable; the corpus
# directories are git-ignored).
#
#   tools/fuzz/seed_corpus.sh [captures.md]
#
# frame_parse    each frame; each frame behind garbage; all frames in one stream
# frame_decoder  the same, behind the chunk-size header the target reads (see its source)
# tlv, types     each frame's DATA, and DATA without its first byte (a response's output
#                after a raw byte), and the frame's CODE+DATA
#
# A frame is an indented hex run (spaces allowed, may go on over indented hex lines) starting
# with B6 29 whose LEN matches its length; descriptions after it are ignored.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
captures="${1:-${CAPTURES:-}}"
if [[ -z "$captures" ]]; then
    for c in /work/shared/reference/captures.md "$here/../../../shared/reference/captures.md"; do
        [[ -f "$c" ]] && { captures="$c"; break; }
    done
fi
[[ -f "${captures:-}" ]] || { echo "seed_corpus.sh: captures.md not found (pass its path)" >&2; exit 1; }

corpus="$here/corpus"
mkdir -p "$corpus"/{frame_decoder,frame_parse,tlv,types}

# One frame per line, as plain upper-case hex.
frames="$(awk '
    function flush() { if (cur != "") print cur; cur = "" }
    /^    / {
        n = split($0, tok, /[ \t]+/); run = ""
        for (i = 1; i <= n; i++) {
            if (tok[i] == "") continue
            if (tok[i] !~ /^[0-9A-Fa-f]+$/ || length(tok[i]) % 2) break
            run = run toupper(tok[i])
        }
        if (run ~ /^B629/) { flush(); cur = run; next }
        if (cur != "" && run != "" && i > n) { cur = cur run; next }
        flush(); next
    }
    { flush() }
    END { flush() }
' "$captures" | while read -r h; do
    # Keep only runs whose LEN field matches: 2 magic + 2 LEN + LEN + 2 CRC bytes.
    len=$((16#${h:4:4}))
    if (( ${#h} == 2 * (len + 6) )); then echo "$h"; fi
done)"

count=$(printf '%s\n' "$frames" | grep -c . || true)
if (( count == 0 )); then echo "seed_corpus.sh: no frames found in $captures" >&2; exit 1; fi

# put_hex DIR NAME HEX
put_hex() { perl -e 'binmode STDOUT; print pack("H*", $ARGV[0])' "$3" > "$corpus/$1/$2"; }

i=0
stream=""
while read -r h; do
    i=$((i + 1))
    name=$(printf 'capture-%02d' "$i")
    data="${h:10:${#h}-14}"       # after magic, LEN, CODE; before CRC
    codedata="${h:8:${#h}-12}"
    put_hex frame_parse "$name" "$h"
    put_hex frame_parse "$name-garbage" "00FFB6B62900$h"
    put_hex frame_decoder "$name" "00$h"                 # one chunk
    put_hex frame_decoder "$name-bytewise" "0100$h"      # chunks of 1 byte
    put_hex tlv "$name-data" "$data"
    [[ -n "$data" ]] && put_hex tlv "$name-data1" "${data:2}"
    put_hex types "$name-data" "$data"
    put_hex types "$name-codedata" "$codedata"
    stream="$stream$h"
done <<< "$frames"

put_hex frame_parse all-frames "$stream"
put_hex frame_decoder all-frames-chunked "030207FF${stream}"   # chunks of 3, 8, 256
put_hex frame_decoder all-frames-garbage "0204102900B629$stream"  # chunks of 5, 17; junk first

echo "seed_corpus.sh: $count frames from $captures into $corpus"
for t in frame_decoder frame_parse tlv types; do
    echo "  $t: $(find "$corpus/$t" -type f | wc -l) files"
done
