//! Synthetic Chinese-style plates (GA 36 colours and proportions) on road-like frames.
//!
//! A plate is 440 × 140 mm (green new-energy plates 480 × 140 mm): a province character, a
//! letter, a separator dot and five (six on green) letters or digits, each 45 × 90 mm, on a
//! blue (white characters), yellow (black), green gradient (black) or white (black) ground
//! with a rim in the character colour. Characters are drawn from a 5 × 7 bitmap font (the
//! province glyph is a dense stand-in pattern); the plate is then rotated, foreshortened
//! (yaw) and scaled onto the frame by inverse mapping with 3 × 3 supersampling.

use super::{Img, Rng};
use custos_redact::Rect;

const FONT: &[(char, [&str; 7])] = &[
    (
        '0',
        [
            ".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###.",
        ],
    ),
    (
        '1',
        [
            "..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###.",
        ],
    ),
    (
        '2',
        [
            ".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####",
        ],
    ),
    (
        '3',
        [
            "####.", "....#", "....#", ".###.", "....#", "....#", "####.",
        ],
    ),
    (
        '4',
        [
            "...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#.",
        ],
    ),
    (
        '5',
        [
            "#####", "#....", "####.", "....#", "....#", "#...#", ".###.",
        ],
    ),
    (
        '6',
        [
            ".###.", "#....", "#....", "####.", "#...#", "#...#", ".###.",
        ],
    ),
    (
        '7',
        [
            "#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#...",
        ],
    ),
    (
        '8',
        [
            ".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###.",
        ],
    ),
    (
        '9',
        [
            ".###.", "#...#", "#...#", ".####", "....#", "....#", ".###.",
        ],
    ),
    (
        'A',
        [
            ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#",
        ],
    ),
    (
        'B',
        [
            "####.", "#...#", "#...#", "####.", "#...#", "#...#", "####.",
        ],
    ),
    (
        'C',
        [
            ".###.", "#...#", "#....", "#....", "#....", "#...#", ".###.",
        ],
    ),
    (
        'D',
        [
            "####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####.",
        ],
    ),
    (
        'E',
        [
            "#####", "#....", "#....", "####.", "#....", "#....", "#####",
        ],
    ),
    (
        'F',
        [
            "#####", "#....", "#....", "####.", "#....", "#....", "#....",
        ],
    ),
    (
        'H',
        [
            "#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#",
        ],
    ),
    (
        'K',
        [
            "#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#",
        ],
    ),
    (
        'L',
        [
            "#....", "#....", "#....", "#....", "#....", "#....", "#####",
        ],
    ),
    (
        'M',
        [
            "#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#",
        ],
    ),
    (
        'N',
        [
            "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#",
        ],
    ),
    (
        'P',
        [
            "####.", "#...#", "#...#", "####.", "#....", "#....", "#....",
        ],
    ),
    (
        'R',
        [
            "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#",
        ],
    ),
    (
        'T',
        [
            "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#..",
        ],
    ),
    (
        'U',
        [
            "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.",
        ],
    ),
    (
        'X',
        [
            "#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#",
        ],
    ),
    (
        'Z',
        [
            "#####", "....#", "...#.", "..#..", ".#...", "#....", "#####",
        ],
    ),
    // Stand-in for a province character (e.g. 京, 沪, 粤): dense strokes.
    (
        '*',
        [
            "#####", "..#..", "#####", "#.#.#", "#####", ".#.#.", "#.#.#",
        ],
    ),
];

fn glyph(c: char) -> &'static [&'static str; 7] {
    &FONT.iter().find(|(k, _)| *k == c).expect("glyph").1
}

/// The four plate kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlateColour {
    Blue,
    Yellow,
    Green,
    White,
}

pub const COLOURS: [PlateColour; 4] = [
    PlateColour::Blue,
    PlateColour::Yellow,
    PlateColour::Green,
    PlateColour::White,
];

/// A plate texture in millimetres → colour.
pub struct Plate {
    pub colour: PlateColour,
    pub text: Vec<char>,
    pub mm_w: f32,
}

impl Plate {
    pub fn random(colour: PlateColour, rng: &mut Rng) -> Plate {
        let alnum: Vec<char> = FONT.iter().map(|(c, _)| *c).filter(|c| *c != '*').collect();
        let letters: Vec<char> = alnum
            .iter()
            .copied()
            .filter(|c| c.is_ascii_alphabetic())
            .collect();
        let n = if colour == PlateColour::Green { 6 } else { 5 };
        let mut text = vec![
            '*',
            letters[(rng.next_u64() % letters.len() as u64) as usize],
        ];
        for _ in 0..n {
            text.push(alnum[(rng.next_u64() % alnum.len() as u64) as usize]);
        }
        let mm_w = if colour == PlateColour::Green {
            480.0
        } else {
            440.0
        };
        Plate { colour, text, mm_w }
    }

    /// Colour at (u, v) mm from the top-left corner, or None outside the plate.
    pub fn at(&self, u: f32, v: f32) -> Option<[u8; 3]> {
        if u < 0.0 || v < 0.0 || u >= self.mm_w || v >= 140.0 {
            return None;
        }
        let (ground, ink) = match self.colour {
            PlateColour::Blue => ([12, 62, 196], [240, 240, 240]),
            PlateColour::Yellow => ([246, 190, 0], [15, 15, 15]),
            PlateColour::Green => {
                let k = v / 140.0;
                let g = |a: f32, b: f32| (a + (b - a) * k) as u8;
                (
                    [g(200.0, 60.0), g(236.0, 188.0), g(206.0, 100.0)],
                    [15, 15, 15],
                )
            }
            PlateColour::White => ([236, 236, 236], [15, 15, 15]),
        };
        // Rim 4 mm wide, 4 mm in from the edge.
        let rim = |d: f32| (4.0..8.0).contains(&d);
        let d = u.min(v).min(self.mm_w - u).min(140.0 - v);
        if rim(d) {
            return Some(ink);
        }
        // Characters: 45 × 90 mm from y = 25 mm, 12 mm apart, first at 15.5 mm; a 10 mm dot
        // gap after the second.
        let (cw, gap) = (45.0, 12.0);
        let mut x = (self.mm_w - (self.text.len() as f32 * (cw + gap) - gap + 10.0 + gap)) / 2.0;
        for (i, c) in self.text.iter().enumerate() {
            if i == 2 {
                if u >= x + 2.0 && u < x + 8.0 && (67.0..73.0).contains(&v) {
                    return Some(ink);
                }
                x += 10.0 + gap;
            }
            if u >= x && u < x + cw && (25.0..115.0).contains(&v) {
                let gx = ((u - x) / cw * 5.0) as usize;
                let gy = ((v - 25.0) / 90.0 * 7.0) as usize;
                let on = glyph(*c)[gy.min(6)].as_bytes()[gx.min(4)] == b'#';
                return Some(if on { ink } else { ground });
            }
            x += cw + gap;
        }
        Some(ground)
    }
}

/// A placed plate: centre (px), width on screen before foreshortening (px), rotation (deg),
/// yaw foreshortening factor (cos of the yaw angle).
pub struct Placed {
    pub plate: Plate,
    pub cx: f32,
    pub cy: f32,
    pub width: f32,
    pub angle: f32,
    pub yaw: f32,
}

impl Placed {
    /// Draws the plate; returns its axis-aligned bounding box.
    pub fn draw(&self, img: &mut Img) -> Rect {
        let s = self.width / self.plate.mm_w; // px per mm
        let (hw, hh) = (self.plate.mm_w * s * self.yaw / 2.0, 70.0 * s);
        let (c, sn) = (self.angle.to_radians().cos(), self.angle.to_radians().sin());
        let corners = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)];
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for (dx, dy) in corners {
            let (x, y) = (self.cx + dx * c - dy * sn, self.cy + dx * sn + dy * c);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        for py in (y0.floor() as i64).max(0)..(y1.ceil() as i64).min(img.h as i64) {
            for px in (x0.floor() as i64).max(0)..(x1.ceil() as i64).min(img.w as i64) {
                let mut acc = [0f32; 3];
                let mut k = 0f32;
                for sy in 0..3 {
                    for sx in 0..3 {
                        let (fx, fy) = (
                            px as f32 + (sx as f32 + 0.5) / 3.0 - self.cx,
                            py as f32 + (sy as f32 + 0.5) / 3.0 - self.cy,
                        );
                        // Inverse rotation, then un-foreshorten.
                        let (rx, ry) = (fx * c + fy * sn, -fx * sn + fy * c);
                        let u = (rx / self.yaw + hw / self.yaw) / s;
                        let v = (ry + hh) / s;
                        if let Some(col) = self.plate.at(u, v) {
                            for (a, c) in acc.iter_mut().zip(col) {
                                *a += c as f32;
                            }
                            k += 1.0;
                        }
                    }
                }
                if k > 0.0 {
                    let bg = img.get(px as usize, py as usize);
                    let o: [u8; 3] = std::array::from_fn(|i| {
                        ((acc[i] + bg[i] as f32 * (9.0 - k)) / 9.0).round() as u8
                    });
                    img.set(px as usize, py as usize, o);
                }
            }
        }
        Rect::new(x0, y0, x1, y1)
    }
}

/// A road: asphalt grey with noise, lane markings (white and yellow), kerb, sky band, and
/// car bodies (dark, grey, silver, red) that carry the plates.
pub fn road(w: usize, h: usize, seed: u64) -> Img {
    let mut img = Img::new(w, h);
    let mut rng = Rng(seed | 1);
    let horizon = h / 5;
    for y in 0..h {
        for x in 0..w {
            let c = if y < horizon {
                let k = y as f32 / horizon as f32;
                [(150.0 + 40.0 * k) as u8, (185.0 + 20.0 * k) as u8, 225]
            } else {
                let g = 85 + ((x * 7 + y * 13) % 9) as u8;
                [g, g, g + 3]
            };
            img.set(x, y, c);
        }
    }
    // Buildings along the horizon.
    let mut x = 0;
    while x < w {
        let bw = 40 + (rng.next_u64() % 120) as usize;
        let bh = 20 + (rng.next_u64() % (horizon as u64)) as usize;
        let g = 120 + (rng.next_u64() % 100) as u8;
        img.fill_rect(
            x as i64,
            (horizon - bh.min(horizon)) as i64,
            (x + bw) as i64,
            horizon as i64,
            [g, g - 10, g - 20],
        );
        x += bw + 5;
    }
    // Lane markings: dashed white lines and a double yellow centre line.
    for lane in 1..4 {
        let lx = (w * lane / 4) as i64;
        for k in 0..(h / 60) {
            let y = (horizon + k * 60) as i64;
            img.fill_rect(lx - 4, y, lx + 4, y + 35, [235, 235, 235]);
        }
    }
    let cx = (w / 2) as i64;
    img.fill_rect(cx - 12, horizon as i64, cx - 6, h as i64, [230, 190, 20]);
    img.fill_rect(cx + 6, horizon as i64, cx + 12, h as i64, [230, 190, 20]);
    // Noise.
    for p in img.px.iter_mut() {
        let d = (rng.next_u64() % 11) as i32 - 5;
        *p = (*p as i32 + d).clamp(0, 255) as u8;
    }
    img
}

/// A car body (rear view) around a plate at (cx, cy) of on-screen width `pw`.
pub fn car(img: &mut Img, cx: f32, cy: f32, pw: f32, rng: &mut Rng) {
    const BODIES: [[u8; 3]; 5] = [
        [30, 30, 34],
        [110, 112, 118],
        [180, 182, 186],
        [150, 25, 30],
        [60, 40, 30],
    ];
    let c = BODIES[(rng.next_u64() % BODIES.len() as u64) as usize];
    let bw = (pw * 3.0).min(380.0);
    let bh = bw * 0.55;
    img.fill_rect(
        (cx - bw / 2.0) as i64,
        (cy - bh * 0.7) as i64,
        (cx + bw / 2.0) as i64,
        (cy + bh * 0.3) as i64,
        c,
    );
    // Rear window and lights.
    let d = [c[0] / 3, c[1] / 3, c[2] / 3 + 10];
    img.fill_rect(
        (cx - bw * 0.35) as i64,
        (cy - bh * 0.65) as i64,
        (cx + bw * 0.35) as i64,
        (cy - bh * 0.35) as i64,
        d,
    );
    for sgn in [-1.0f32, 1.0] {
        let lx = cx + sgn * bw * 0.4;
        img.fill_rect(
            (lx - pw * 0.3) as i64,
            (cy - bh * 0.25) as i64,
            (lx + pw * 0.3) as i64,
            (cy - bh * 0.12) as i64,
            [210, 30, 25],
        );
    }
}
