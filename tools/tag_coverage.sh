#!/usr/bin/env bash
# Checks that every tag number the protocol documents use has a row in protocol/tags.tsv.
#
# Usage: tools/tag_coverage.sh [--list] [DOC...]
#   DOC      documents to scan; default: the ФФД 1.2 command set (seed 004) and the v01.05 protocol
#            text under $KKT_DOCS (default: ../shared next to the repository, then /work/shared).
#   --list   print every tag number found in the documents (with the files it was found in) and exit.
#
# A number counts as a tag where the text shows it as one:
#   TAG = 30050 / TAG=39999 / T=39999          (settings TLVs, print buffer)
#   Тег 1205, тега 2106, Тэги 1017, 1046, 1117, тегов 1293-1294, (тег 2106)
#   table rows: ... BYTE 1262, ASCII(N) 1048, ASCII 32 1179, VLN 1079, FVLN 1023, STLV 1260,
#               UINT32, LE 1293, UNIXTIME 1178, BYTE(N) 1275, ASCII строка (HEX-представление) 1162
#   examples: TLV 2003 (...), *2114+ ..., реквизите 2007, lists in brackets (1262,1263, 1264, 1265)
# Prints each tag missing from protocol/tags.tsv and exits 1 if there is any; exits 0 otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
table="$repo/protocol/tags.tsv"

list=0
docs=()
for a in "$@"; do
  case "$a" in
    --list) list=1 ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) docs+=("$a") ;;
  esac
done

if [ ${#docs[@]} -eq 0 ]; then
  base=${KKT_DOCS:-}
  if [ -z "$base" ]; then
    for d in "$repo/../shared" /work/shared; do
      if [ -d "$d/seeds" ]; then base=$d; break; fi
    done
  fi
  [ -n "$base" ] || { echo "tag_coverage: documents not found; set KKT_DOCS or pass the files" >&2; exit 2; }
  docs=("$base/seeds/004_ef1d1b3ea628b9e6.txt" "$base/reference/terminal-fa-protocol-v01.05.txt")
fi
for f in "${docs[@]}"; do
  [ -r "$f" ] || { echo "tag_coverage: cannot read $f" >&2; exit 2; }
done
[ -r "$table" ] || { echo "tag_coverage: cannot read $table" >&2; exit 2; }

# Tag numbers of one document, one per line. The text is a PDF extraction: table cells wrap, so
# all whitespace is folded to single spaces first ("UINT32,\nLE \n\n1293" -> "UINT32, LE 1293").
extract() {
  perl -CSD -Mutf8 -0777 -ne '
    s/\s+/ /g;
    my $n   = qr/\d{4,5}/;
    my $lst = qr/$n(?:\s*[,\x{2013}-]\s*$n)*/;
    my @hit;
    push @hit, /\bTAG\s*=\s*($n)/g;
    push @hit, /\bT\s*=\s*($n)\b/g;
    push @hit, /(?:[Тт][еэ]г)[а-яё]*\s*\(?\s*($lst)/g;
    push @hit, /\b(?:BYTE|ASCII|VLN|FVLN|STLV|UNIXTI ?ME|UINT(?:16|32|40),? ?LE)(?:\s*[\[(]\w+[\])])?\s+(?:\d{1,3}\s+)?($n)\b/g;
    push @hit, /ASCII строка \(HEX-\s*представление\)\s+($n)/g;
    push @hit, /\bTLV\s+($n)\b/g;
    push @hit, /\*($n)\+/g;
    push @hit, /реквизит[а-яё]*\s+($n)\b/g;
    push @hit, /\(($lst)\)/g;
    for my $h (@hit) { print "$_\n" for grep { $_ >= 1000 && $_ <= 65535 } ($h =~ /\d+/g) }
  ' "$1" | sort -n -u
}

found=$(for f in "${docs[@]}"; do extract "$f" | sed "s|\$|\t$(basename "$f")|"; done | sort -n)

if [ "$list" = 1 ]; then
  printf '%s\n' "$found" | awk -F'\t' '{w[$1] = w[$1] (w[$1] ? ", " : "") $2} END {for (t in w) print t "\t" w[t]}' | sort -n
  exit 0
fi

known=$(awk -F'\t' '/^#/ || NF == 0 {next} !h {h = 1; next} {print $1}' "$table" | sort -u)
missing=$(printf '%s\n' "$found" | cut -f1 | sort -u | comm -23 - <(printf '%s\n' "$known"))

total=$(printf '%s\n' "$found" | cut -f1 | sort -u | grep -c . || true)
if [ -n "$missing" ]; then
  echo "Tags used in the documents but missing from protocol/tags.tsv:"
  for t in $missing; do
    printf '  %s\t(%s)\n' "$t" "$(printf '%s\n' "$found" | awk -F'\t' -v t="$t" '$1 == t {print $2}' | paste -sd, -)"
  done
  exit 1
fi
echo "tag_coverage: all $total tag numbers found in ${#docs[@]} documents are in protocol/tags.tsv"
