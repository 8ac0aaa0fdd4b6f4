#!/usr/bin/env python3
"""A straightforward decoder of a B6 29 exchange log in Python, for the speed comparison in
benches/decode_log.rs (BENCHMARKS.md): the same log `kkt decode --json` reads, line by line,
`>` marking requests and `<` responses; each frame's CRC (CRC-16/CCITT-FALSE) checked with
crcmod's C extension, its DATA walked as TLVs where it is one, one JSON object per frame on
stdout (kind, code, command, crc_ok, error, data, tlv with tag, length and value in hex).

    python3 decode_log.py LOG > /dev/null
"""
import json
import sys

import crcmod.predefined

CRC = crcmod.predefined.mkCrcFun("crc-ccitt-false")


def tlvs(data):
    out = []
    i = 0
    while i + 4 <= len(data):
        tag = data[i] | data[i + 1] << 8
        n = data[i + 2] | data[i + 3] << 8
        if i + 4 + n > len(data):
            return None
        out.append({"tag": tag, "len": n, "value": data[i + 4:i + 4 + n].hex().upper()})
        i += 4 + n
    return out if i == len(data) else None


def frames(buf):
    i = 0
    while True:
        j = buf.find(b"\xb6\x29", i)
        if j < 0 or j + 4 > len(buf):
            return
        length = buf[j + 2] << 8 | buf[j + 3]
        end = j + 4 + length + 2
        if length == 0 or end > len(buf):
            return
        crc = buf[end - 2] | buf[end - 1] << 8
        yield buf[j + 4], bytes(buf[j + 5:end - 2]), CRC(bytes(buf[j + 2:end - 2])) == crc
        i = end


def main(path):
    out = sys.stdout
    last_request = None
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        for line in f:
            words = line.split()
            if ">" in words:
                kind = "request"
            elif "<" in words:
                kind = "response"
            else:
                continue
            hexes = [w for w in words if len(w) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in w)]
            buf = bytes.fromhex("".join(hexes))
            for code, data, ok in frames(buf):
                d = {"kind": kind, "code": code, "crc_ok": ok, "data": data.hex().upper()}
                if kind == "request":
                    last_request = code
                    d["command"] = None
                    d["error"] = None
                else:
                    d["command"] = last_request
                    d["error"] = {"code": data[0]} if code == 1 and len(data) == 1 else None
                d["tlv"] = tlvs(data) if data else None
                out.write(json.dumps(d, ensure_ascii=False))
                out.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
