"""Draws the example sketches in assets/sketches/: clean line drawings of three different faces,
black lines on white paper, 512 x 512 PNG, framed like the training faces (the face fills the
page: eyes at about 45% of the height, mouth at about 78%, see assets/guide.png), and two small
whole heads with hair, neck and shoulders on empty paper, the way people often draw, with a
slight hand tremor on every line.

    .venv/bin/python scripts/make_example_sketches.py

Drawn with Pillow at 4x and downsampled with Lanczos for anti-aliased lines. Deterministic: the
same Pillow version writes the same files. Line widths are 0.8%..1.2% of the page, inside the range
the model saw in training (0.6%..1.6%).
"""

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 512
SCALE = 4
OUT = Path(__file__).resolve().parent.parent / "assets" / "sketches"


class Pen:
    """Draws smooth strokes through points given in page units (0..1)."""

    def __init__(self, scale=1.0, offset=(0.0, 0.0), tremor=0.0, seed=0):
        self.side = SIZE * SCALE
        self.image = Image.new("L", (self.side, self.side), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.scale, self.offset = scale, offset  # where the face's page lands on this page
        self.tremor = tremor  # page units: a hand wobbles a little around each point
        self.random = __import__("random").Random(seed)

    def place(self, p):
        return (self.offset[0] + p[0] * self.scale, self.offset[1] + p[1] * self.scale)

    def px(self, p):
        return (p[0] * self.side, p[1] * self.side)

    def curve(self, points, width=0.010, closed=False):
        """A Catmull-Rom curve through `points`, round caps and joins."""
        pts = [self.place(p) for p in points]
        if self.tremor:
            pts = [(x + self.random.gauss(0, self.tremor), y + self.random.gauss(0, self.tremor)) for x, y in pts]
        if closed:
            pts = [pts[-1]] + pts + [pts[0], pts[1]]
        else:
            pts = [pts[0]] + pts + [pts[-1]]
        samples = []
        for i in range(1, len(pts) - 2):
            p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
            for k in range(16):
                t = k / 16
                samples.append(tuple(
                    0.5 * (2 * p1[j] + (-p0[j] + p2[j]) * t + (2 * p0[j] - 5 * p1[j] + 4 * p2[j] - p3[j]) * t * t
                           + (-p0[j] + 3 * p1[j] - 3 * p2[j] + p3[j]) * t ** 3)
                    for j in range(2)))
        samples.append(pts[-2])
        w = width * self.side
        xy = [self.px(p) for p in samples]
        self.draw.line(xy, fill=0, width=round(w), joint="curve")
        for end in (xy[0], xy[-1]):
            self.dot_px(end, w / 2)

    def dot(self, centre, radius):
        self.dot_px(self.px(self.place(centre)), radius * self.scale * self.side)

    def page_curve(self, points, width=0.010):
        """A curve in this page's own units (not moved with the face)."""
        scale, offset = self.scale, self.offset
        self.scale, self.offset = 1.0, (0.0, 0.0)
        self.curve(points, width)
        self.scale, self.offset = scale, offset

    def dot_px(self, c, r):
        self.draw.ellipse([c[0] - r, c[1] - r, c[0] + r, c[1] + r], fill=0)

    def save(self, path):
        self.image.resize((SIZE, SIZE), Image.LANCZOS).save(path, optimize=True)


def mirror(points):
    return [(1 - x, y) for x, y in points]


def both(pen, points, **kw):
    pen.curve(points, **kw)
    pen.curve(mirror(points), **kw)


def eyes(pen, y, half_width, height, pupil):
    for cx in (0.335, 0.665):
        left, right = cx - half_width, cx + half_width
        pen.curve([(left, y), (cx - half_width * 0.4, y - height), (cx + half_width * 0.4, y - height), (right, y)])
        pen.curve([(left, y), (cx, y + height * 0.7), (right, y)], width=0.008)
        pen.dot((cx, y - height * 0.15), pupil)


def face_one(pen):
    """Oval face, short hair, neutral mouth."""
    both(pen, [(0.16, 0.22), (0.14, 0.42), (0.17, 0.66), (0.30, 0.87), (0.42, 0.95), (0.5, 0.965)])
    pen.curve([(0.16, 0.24), (0.22, 0.10), (0.40, 0.04), (0.60, 0.04), (0.78, 0.10), (0.84, 0.24)], width=0.012)
    pen.curve([(0.19, 0.26), (0.30, 0.17), (0.50, 0.15), (0.70, 0.17), (0.81, 0.26)])
    for x in (0.28, 0.38, 0.48, 0.58, 0.68):
        pen.curve([(x, 0.16), (x + 0.03, 0.09)], width=0.008)
    both(pen, [(0.22, 0.37), (0.30, 0.345), (0.42, 0.36)], width=0.012)
    eyes(pen, 0.45, 0.075, 0.035, 0.022)
    pen.curve([(0.47, 0.47), (0.46, 0.56), (0.44, 0.62)], width=0.008)
    pen.curve([(0.42, 0.63), (0.46, 0.655), (0.50, 0.66), (0.54, 0.655), (0.58, 0.63)])
    pen.curve([(0.37, 0.775), (0.44, 0.765), (0.50, 0.772), (0.56, 0.765), (0.63, 0.775)])
    pen.curve([(0.41, 0.81), (0.50, 0.83), (0.59, 0.81)], width=0.008)
    both(pen, [(0.15, 0.42), (0.10, 0.44), (0.10, 0.55), (0.16, 0.60)], width=0.008)


def face_two(pen):
    """Round face, long hair down the sides, smile."""
    both(pen, [(0.18, 0.25), (0.15, 0.45), (0.18, 0.68), (0.30, 0.86), (0.42, 0.93), (0.5, 0.94)])
    pen.curve([(0.10, 0.95), (0.08, 0.60), (0.10, 0.25), (0.25, 0.06), (0.50, 0.02), (0.75, 0.06),
               (0.90, 0.25), (0.92, 0.60), (0.90, 0.95)], width=0.012)
    pen.curve([(0.18, 0.30), (0.30, 0.16), (0.50, 0.12), (0.62, 0.18), (0.82, 0.30)])
    pen.curve([(0.50, 0.12), (0.42, 0.20), (0.30, 0.26)], width=0.008)
    both(pen, [(0.13, 0.30), (0.12, 0.55), (0.14, 0.85)], width=0.008)
    both(pen, [(0.23, 0.375), (0.31, 0.36), (0.42, 0.375)], width=0.010)
    eyes(pen, 0.46, 0.07, 0.03, 0.02)
    pen.curve([(0.48, 0.48), (0.47, 0.57), (0.45, 0.615)], width=0.008)
    pen.curve([(0.43, 0.625), (0.47, 0.645), (0.53, 0.645), (0.57, 0.625)])
    pen.curve([(0.35, 0.75), (0.42, 0.78), (0.50, 0.79), (0.58, 0.78), (0.65, 0.75)])
    pen.curve([(0.40, 0.80), (0.50, 0.835), (0.60, 0.80)], width=0.008)
    both(pen, [(0.33, 0.72), (0.35, 0.75), (0.34, 0.775)], width=0.008)


def face_three(pen):
    """Long narrow face, fringe, thick brows, beard line."""
    both(pen, [(0.20, 0.20), (0.18, 0.45), (0.21, 0.70), (0.32, 0.88), (0.43, 0.97), (0.5, 0.985)])
    pen.curve([(0.17, 0.30), (0.20, 0.10), (0.38, 0.02), (0.62, 0.02), (0.80, 0.10), (0.83, 0.30)], width=0.012)
    for x0 in (0.24, 0.34, 0.44, 0.54, 0.64):
        pen.curve([(x0 + 0.05, 0.06), (x0 + 0.02, 0.16), (x0 - 0.02, 0.24)])
    both(pen, [(0.23, 0.355), (0.32, 0.33), (0.43, 0.345)], width=0.016)
    eyes(pen, 0.44, 0.068, 0.028, 0.02)
    pen.curve([(0.475, 0.46), (0.465, 0.58), (0.44, 0.64)], width=0.008)
    pen.curve([(0.44, 0.65), (0.50, 0.67), (0.56, 0.65)])
    pen.curve([(0.38, 0.78), (0.45, 0.775), (0.50, 0.78), (0.55, 0.775), (0.62, 0.78)])
    pen.curve([(0.42, 0.82), (0.50, 0.835), (0.58, 0.82)], width=0.008)
    pen.curve([(0.25, 0.72), (0.33, 0.88), (0.43, 0.94), (0.50, 0.95), (0.57, 0.94), (0.67, 0.88), (0.75, 0.72)],
              width=0.008)
    both(pen, [(0.19, 0.42), (0.14, 0.44), (0.14, 0.55), (0.20, 0.60)], width=0.008)


def small_head_short_hair(pen):
    """Face one at half size, high on the page, with the back of the head, ears, neck, shoulders."""
    face_one(pen)
    pen.page_curve([(0.33, 0.32), (0.30, 0.22), (0.36, 0.12), (0.50, 0.09), (0.64, 0.12), (0.70, 0.22),
                    (0.67, 0.32)], width=0.012)
    pen.page_curve([(0.44, 0.49), (0.43, 0.60)])
    pen.page_curve([(0.56, 0.49), (0.57, 0.60)])
    pen.page_curve([(0.43, 0.60), (0.30, 0.64), (0.19, 0.70), (0.13, 0.78)])
    pen.page_curve([(0.57, 0.60), (0.70, 0.64), (0.81, 0.70), (0.87, 0.78)])


def small_head_long_hair(pen):
    """Face two small in the middle of an empty page: long hair falling to the shoulders."""
    face_two(pen)
    pen.page_curve([(0.34, 0.57), (0.32, 0.63), (0.28, 0.68)], width=0.012)
    pen.page_curve([(0.66, 0.57), (0.68, 0.63), (0.72, 0.68)], width=0.012)
    pen.page_curve([(0.45, 0.57), (0.45, 0.65)])
    pen.page_curve([(0.55, 0.57), (0.55, 0.65)])
    pen.page_curve([(0.45, 0.65), (0.34, 0.68), (0.24, 0.74), (0.19, 0.80)])
    pen.page_curve([(0.55, 0.65), (0.66, 0.68), (0.76, 0.74), (0.81, 0.80)])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    drawings = [
        ("face_oval_short_hair", face_one, {}),
        ("face_round_long_hair", face_two, {}),
        ("face_narrow_fringe", face_three, {}),
        ("head_small_short_hair", small_head_short_hair,
         {"scale": 0.4, "offset": (0.3, 0.13), "tremor": 0.0025, "seed": 1}),
        ("head_small_long_hair", small_head_long_hair,
         {"scale": 0.4, "offset": (0.3, 0.2), "tremor": 0.0025, "seed": 2}),
    ]
    for name, draw, placement in drawings:
        pen = Pen(**placement)
        draw(pen)
        path = OUT / f"{name}.png"
        pen.save(path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
