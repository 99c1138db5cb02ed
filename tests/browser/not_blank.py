"""Checks that a PNG screenshot is not blank: decodes it (no libraries), counts distinct
colours and non-white pixels, and looks for the Okabe-Ito blue that oversim's charts and
buttons use. Usage: python3 not_blank.py SHOT.png [MIN_NON_WHITE_SHARE (default 0.05)]"""
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h, ct = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ct = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
bpp = {2: 3, 6: 4}[ct]
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, nonwhite, i = set(), 0, 0
for y in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, w, 4):
            px = bytes(line[x * bpp:x * bpp + 3])
            colours.add(px)
            nonwhite += px != b"\xff\xff\xff"
share = nonwhite / ((h // 4 + 1) * (w // 4 + 1))
print(f"screenshot {w}x{h}: {len(colours)} colours, {share:.0%} non-white")
assert len(colours) >= 8, "the screenshot looks blank"
least = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
assert share > least, "the screenshot is almost all white"
# The palette's blue and orange (first two policies) appear: the charts were drawn.
assert any(abs(p[0] - 0) < 40 and abs(p[1] - 114) < 40 and abs(p[2] - 178) < 40 for p in colours), "no policy colour"
