"""Draw a face on the sketch2face canvas with xdotool, like a person with a mouse.

Used by scripts/app_screenshot.sh. One chained xdotool command per stroke: move to the start,
press, move through the points with short sleeps, release. Coordinates are in canvas units
(0..1) and mapped onto the canvas of the app's default 1120 x 640 window at the screen's
top-left corner, with a model that has variations (the strip under the face): canvas at x=132,
y=66, 420 px square. With --colours it then paints colour hints: it clicks swatches of the
colour row (hair, skin, eyes, background) and paints broad strokes with each.

    python3 scripts/draw_face_xdotool.py [--colours] [FIRST [LAST]]   # strokes FIRST..LAST
"""
import math
import random
import subprocess
import sys
import time

X0, Y0, SIDE = 132, 66, 420
# The colour row's swatches (x, y on the screen), as src/app/toolbar.rs lays them out.
SWATCH_Y = 44
SWATCH_X = {"fair skin": 40, "brown hair": 155, "blue eyes": 270, "blue background": 340}
random.seed(3)


def arc(cx, cy, rx, ry, a0, a1, n):
    """n points on an ellipse from angle a0 to a1 (degrees; y points down)."""
    angles = [math.radians(a0 + (a1 - a0) * i / (n - 1)) for i in range(n)]
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def curve(controls, n):
    """n points on the Bezier curve with these control points."""
    out = []
    for i in range(n):
        t = i / (n - 1)
        p = list(controls)
        while len(p) > 1:
            p = [((1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]) for a, b in zip(p, p[1:])]
        out.append(p[0])
    return out


def mirror(stroke):
    return [(1 - x, y) for x, y in stroke]


def face():
    strokes = [
        arc(0.5, 0.45, 0.245, 0.42, 192, -12, 44),  # cheeks and chin
        arc(0.5, 0.45, 0.255, 0.37, 190, 350, 36),  # top of the head
        curve([(0.27, 0.33), (0.36, 0.17), (0.64, 0.17), (0.73, 0.33)], 24),  # hairline
    ]
    for x in (0.34, 0.40, 0.46, 0.52, 0.58, 0.64):  # hair
        strokes.append(curve([(x, 0.12 + abs(x - 0.49) * 0.35), (x + 0.02, 0.19 + abs(x - 0.49) * 0.3)], 6))
    brow = curve([(0.32, 0.385), (0.37, 0.355), (0.44, 0.37)], 10)
    upper_lid = curve([(0.33, 0.445), (0.38, 0.415), (0.435, 0.445)], 10)
    lower_lid = curve([(0.33, 0.445), (0.38, 0.47), (0.435, 0.445)], 10)
    pupil = arc(0.382, 0.442, 0.013, 0.013, 0, 360, 10)
    for s in (brow, upper_lid, lower_lid, pupil):
        strokes += [s, mirror(s)]
    strokes.append(curve([(0.485, 0.45), (0.475, 0.56), (0.455, 0.61), (0.5, 0.625), (0.54, 0.61)], 16))  # nose
    strokes.append(curve([(0.40, 0.715), (0.45, 0.695), (0.5, 0.71), (0.55, 0.695), (0.60, 0.715)], 16))  # lips
    strokes.append(curve([(0.43, 0.745), (0.5, 0.775), (0.57, 0.745)], 10))
    ear = curve([(0.255, 0.42), (0.20, 0.40), (0.21, 0.53), (0.265, 0.57)], 12)
    strokes += [ear, mirror(ear)]
    strokes.append(curve([(0.40, 0.86), (0.38, 0.95), (0.36, 0.99)], 8))  # neck
    strokes.append(curve([(0.60, 0.86), (0.62, 0.95), (0.64, 0.99)], 8))
    return strokes


def colours():
    """(swatch, strokes) pairs: broad short strokes, as the model learned hints."""
    hair = [arc(0.5, 0.40, 0.21, 0.26, 200, 340, 12), curve([(0.30, 0.30), (0.5, 0.16), (0.70, 0.30)], 10)]
    skin = [curve([(0.40, 0.33), (0.5, 0.31), (0.60, 0.33)], 8), curve([(0.33, 0.52), (0.36, 0.62)], 5),
            curve([(0.67, 0.52), (0.64, 0.62)], 5), curve([(0.47, 0.66), (0.5, 0.80), (0.53, 0.66)], 6)]
    eyes = [[(0.382, 0.442)], [(0.618, 0.442)]]
    background = [curve([(0.08, 0.15), (0.1, 0.5), (0.08, 0.85)], 8), curve([(0.92, 0.15), (0.9, 0.5), (0.92, 0.85)], 8)]
    return [("brown hair", hair), ("fair skin", skin), ("blue eyes", eyes), ("blue background", background)]


def draw(stroke):
    jitter = lambda: random.uniform(-0.6, 0.6)  # a hand is not a plotter
    pts = [(round(X0 + x * SIDE + jitter()), round(Y0 + y * SIDE + jitter())) for x, y in stroke]
    cmd = ["xdotool", "mousemove", str(pts[0][0]), str(pts[0][1]), "sleep", "0.05", "mousedown", "1", "sleep", "0.03"]
    for x, y in pts[1:]:
        cmd += ["mousemove", str(x), str(y), "sleep", "0.02"]
    cmd += ["sleep", "0.03", "mouseup", "1", "sleep", "0.15"]
    start = time.time()
    subprocess.run(cmd, check=True)
    print(f"stroke of {len(pts)} points in {time.time() - start:.2f} s", flush=True)


def main():
    args = sys.argv[1:]
    with_colours = "--colours" in args
    args = [a for a in args if a != "--colours"]
    strokes = face()
    first = int(args[0]) if len(args) > 0 else 0
    last = int(args[1]) if len(args) > 1 else len(strokes)
    for stroke in strokes[first:last]:
        draw(stroke)
    if with_colours:
        for swatch, strokes in colours():
            # Slowly, so that even a slow (debug) build sees the pointer over the swatch first.
            subprocess.run(["xdotool", "mousemove", str(SWATCH_X[swatch]), str(SWATCH_Y), "sleep", "0.5",
                            "mousedown", "1", "sleep", "0.2", "mouseup", "1", "sleep", "0.5"], check=True)
            for stroke in strokes:
                draw(stroke)


if __name__ == "__main__":
    main()
