// Draws the synthetic production line with OpenCV: a moving textured conveyor belt, parts (nuts,
// screws, PCB-like boards) and their injected defects, plus the exact mask of every defect pixel.
// Same seed and frame index -> same pixels.
import type { Mat, Point2 } from '@u4/opencv4nodejs';
import { loadOpenCV } from '../../util/opencv.js';
import { mulberry32, hashInts } from '../../util/prng.js';
import { beltOffset, planFrame, type DefectKind, type PartPlan, type SceneOptions } from './scene.js';

type CV = ReturnType<typeof loadOpenCV>;
type BGR = [number, number, number];

export interface RenderedFrame {
  image: Mat;
  /** uint8, 255 where a defect is; undefined when no defect pixel is in view. */
  truthMask?: Mat;
  defects: DefectKind[];
  /** With `boxes`: every part in view, in plan order. */
  parts?: RenderedPart[];
}

/** A box in frame pixels (clipped to the frame). */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where a part and its visible defect ended up in the frame (from the drawn masks, not the plan). */
export interface RenderedPart {
  index: number;
  kind: PartPlan['kind'];
  /** Bounding box of the part's silhouette in view. */
  box: PixelBox;
  /** Present when defect pixels are in view: the truth mask's pixels of this part. */
  defect?: { kind: DefectKind; box: PixelBox; areaPx: number };
}

export interface RenderOptions {
  /** Also report every part's box and defect box (costs a silhouette per part). */
  boxes?: boolean;
}

const BELT_PERIOD = 256;

export class SyntheticRenderer {
  private readonly cv: CV;
  private readonly strip: Mat;
  private readonly period: number;

  constructor(private readonly o: SceneOptions) {
    this.cv = loadOpenCV();
    this.period = Math.min(BELT_PERIOD, o.width);
    this.strip = this.makeBeltStrip();
  }

  /** Frame number `frameIndex` of the moving line. */
  render(frameIndex: number, opts: RenderOptions = {}): RenderedFrame {
    return this.renderParts(planFrame(this.o, frameIndex), beltOffset(this.o, frameIndex, this.period), opts);
  }

  /** The belt period: offsets passed to renderParts are taken modulo it. */
  get beltPeriod(): number {
    return this.period;
  }

  /** Any arrangement of parts on the belt, the belt texture shifted by `offset` pixels. */
  renderParts(parts: readonly PartPlan[], offset: number, opts: RenderOptions = {}): RenderedFrame {
    const { cv, o } = this;
    const shift = ((Math.round(offset) % this.period) + this.period) % this.period;
    const image = this.strip.getRegion(new cv.Rect(shift, 0, o.width, o.height)).copy();
    let truth: Mat | undefined;
    const defects: DefectKind[] = [];
    const rendered: RenderedPart[] = [];
    for (const part of parts) {
      // per-part work happens in the part's bounding box only (full-frame masks cost milliseconds)
      const r = Math.ceil(part.size * 0.95);
      const x0 = Math.max(0, Math.floor(part.cx - r));
      const y0 = Math.max(0, Math.floor(part.cy - r));
      const x1 = Math.min(o.width, Math.ceil(part.cx + r));
      const y1 = Math.min(o.height, Math.ceil(part.cy + r));
      if (!part.defect) {
        this.drawPart(image, part);
        if (opts.boxes && x1 > x0 && y1 > y0) {
          const box = new cv.Rect(x0, y0, x1 - x0, y1 - y0);
          const partBox = this.silhouetteBox(box, part);
          if (partBox) rendered.push({ index: part.index, kind: part.kind, box: partBox });
        }
        continue;
      }
      if (x1 - x0 < 1 || y1 - y0 < 1) continue;
      const box = new cv.Rect(x0, y0, x1 - x0, y1 - y0);
      const local: PartPlan = { ...part, cx: part.cx - x0, cy: part.cy - y0 };
      const region = image.getRegion(box);
      const belt = part.defect.kind === 'missing' ? region.copy() : undefined;
      this.drawPart(image, part);
      const partMask = cv.Mat.zeros(box.height, box.width, cv.CV_8UC1);
      this.drawPartSilhouette(partMask, local);
      const defectMask = cv.Mat.zeros(box.height, box.width, cv.CV_8UC1);
      // the defect is drawn on a copy and pasted through the mask clipped to the part, so that no
      // pixel outside the part changes and every changed pixel is in the truth mask
      const overlay = belt ?? region.copy();
      this.drawDefect(overlay, defectMask, local);
      const visible = defectMask.bitwiseAnd(partMask);
      const partBox = opts.boxes ? nonZeroBox(partMask, x0, y0) : undefined;
      if (visible.countNonZero() === 0) {
        if (partBox) rendered.push({ index: part.index, kind: part.kind, box: partBox });
        continue;
      }
      overlay.copyTo(region, visible);
      truth ??= cv.Mat.zeros(o.height, o.width, cv.CV_8UC1);
      visible.copyTo(truth.getRegion(box), visible);
      defects.push(part.defect.kind);
      if (partBox) {
        const defectBox = nonZeroBox(visible, x0, y0);
        rendered.push({
          index: part.index,
          kind: part.kind,
          box: partBox,
          ...(defectBox && {
            defect: { kind: part.defect.kind, box: defectBox, areaPx: visible.countNonZero() },
          }),
        });
      }
    }
    return { image, truthMask: truth, defects, ...(opts.boxes && { parts: rendered }) };
  }

  /** Bounding box in frame pixels of a part's silhouette inside `box`; undefined when none is in view. */
  private silhouetteBox(box: InstanceType<CV['Rect']>, part: PartPlan): PixelBox | undefined {
    const mask = this.cv.Mat.zeros(box.height, box.width, this.cv.CV_8UC1);
    this.drawPartSilhouette(mask, { ...part, cx: part.cx - box.x, cy: part.cy - box.y });
    return nonZeroBox(mask, box.x, box.y);
  }

  /** A seamless strip of belt texture, one period wider than the frame, so any offset fits. */
  private makeBeltStrip(): Mat {
    const { cv, o } = this;
    const P = this.period;
    const rnd = mulberry32(hashInts(this.o.seed, 0xbe17));
    const noise = Buffer.alloc(P * o.height);
    for (let i = 0; i < noise.length; i++) noise[i] = 70 + Math.floor(rnd() * 50);
    let tile = new cv.Mat(noise, o.height, P, cv.CV_8UC1).gaussianBlur(new cv.Size(3, 3), 1.2);
    tile = tile.cvtColor(cv.COLOR_GRAY2BGR);
    // belt joint at the start of each period, and steel rails along the top and bottom edges
    tile.drawLine(new cv.Point2(0, 0), new cv.Point2(0, o.height - 1), new cv.Vec3(35, 35, 38), 2);
    const rail = Math.max(2, Math.round(o.height * 0.06));
    tile.drawRectangle(new cv.Point2(0, 0), new cv.Point2(P - 1, rail), new cv.Vec3(150, 145, 140), -1);
    tile.drawRectangle(
      new cv.Point2(0, o.height - 1 - rail),
      new cv.Point2(P - 1, o.height - 1),
      new cv.Vec3(150, 145, 140),
      -1,
    );
    const stripWidth = o.width + P;
    const strip = cv.Mat.zeros(o.height, stripWidth, cv.CV_8UC3);
    for (let x = 0; x < stripWidth; x += P) {
      const w = Math.min(P, stripWidth - x);
      const src = w === P ? tile : tile.getRegion(new cv.Rect(0, 0, w, o.height));
      src.copyTo(strip.getRegion(new cv.Rect(x, 0, w, o.height)));
    }
    return strip;
  }

  /** Maps part coordinates (units of part size, x along the part's axis) to frame pixels. */
  private pt(p: PartPlan, u: number, v: number): Point2 {
    const c = Math.cos(p.angle);
    const s = Math.sin(p.angle);
    const x = p.cx + p.size * (u * c - v * s);
    const y = p.cy + p.size * (u * s + v * c);
    return new this.cv.Point2(Math.round(x), Math.round(y));
  }

  private poly(p: PartPlan, uv: [number, number][]): Point2[] {
    return uv.map(([u, v]) => this.pt(p, u, v));
  }

  private color(p: PartPlan, bgr: BGR) {
    const k = p.shade;
    return new this.cv.Vec3(
      Math.min(255, Math.round(bgr[0] * k)),
      Math.min(255, Math.round(bgr[1] * k)),
      Math.min(255, Math.round(bgr[2] * k)),
    );
  }

  private hexagon(r: number): [number, number][] {
    return Array.from({ length: 6 }, (_, k) => [
      r * Math.cos((k * Math.PI) / 3),
      r * Math.sin((k * Math.PI) / 3),
    ]);
  }

  private rect(u0: number, v0: number, u1: number, v1: number): [number, number][] {
    return [
      [u0, v0],
      [u1, v0],
      [u1, v1],
      [u0, v1],
    ];
  }

  private drawPart(img: Mat, p: PartPlan): void {
    const { cv } = this;
    const AA = cv.LINE_AA;
    const px = (f: number) => Math.max(1, Math.round(p.size * f));
    if (p.kind === 'nut') {
      img.drawFillPoly([this.poly(p, this.hexagon(0.5))], this.color(p, [165, 165, 172]), AA);
      img.drawPolylines([this.poly(p, this.hexagon(0.5))], true, this.color(p, [95, 95, 100]), px(0.015), AA);
      img.drawCircle(this.pt(p, 0, 0), px(0.4), this.color(p, [130, 130, 136]), px(0.02), AA);
      img.drawCircle(this.pt(p, 0, 0), px(0.2), new cv.Vec3(30, 30, 32), -1, AA);
      img.drawCircle(this.pt(p, 0, 0), px(0.2), this.color(p, [90, 90, 95]), px(0.02), AA);
    } else if (p.kind === 'screw') {
      img.drawFillPoly(
        [this.poly(p, this.rect(-0.2, -0.08, 0.55, 0.08))],
        this.color(p, [150, 152, 158]),
        AA,
      );
      for (let u = -0.15; u < 0.55; u += 0.06)
        img.drawLine(
          this.pt(p, u, -0.08),
          this.pt(p, u + 0.03, 0.08),
          this.color(p, [90, 92, 96]),
          px(0.01),
          AA,
        );
      img.drawCircle(this.pt(p, -0.3, 0), px(0.2), this.color(p, [170, 172, 178]), -1, AA);
      img.drawLine(this.pt(p, -0.3, -0.13), this.pt(p, -0.3, 0.13), new cv.Vec3(40, 40, 44), px(0.04), AA);
    } else {
      img.drawFillPoly([this.poly(p, this.rect(-0.5, -0.33, 0.5, 0.33))], this.color(p, [40, 115, 35]), AA);
      img.drawFillPoly([this.poly(p, this.rect(-0.15, -0.1, 0.15, 0.1))], new cv.Vec3(25, 25, 25), AA);
      const gold = this.color(p, [40, 175, 210]);
      for (const u of [-0.38, -0.2, 0.2, 0.38]) {
        for (const v of [-0.24, 0.24]) {
          img.drawFillPoly([this.poly(p, this.rect(u - 0.04, v - 0.04, u + 0.04, v + 0.04))], gold, AA);
          img.drawLine(this.pt(p, u, v), this.pt(p, Math.sign(u) * 0.15, v / 3), gold, px(0.012), AA);
        }
      }
    }
  }

  /** The part's outline filled with 255: defects only count where the part is. */
  private drawPartSilhouette(mask: Mat, p: PartPlan): void {
    const white = new this.cv.Vec3(255, 255, 255);
    if (p.kind === 'nut') mask.drawFillPoly([this.poly(p, this.hexagon(0.5))], white);
    else if (p.kind === 'screw') {
      mask.drawFillPoly([this.poly(p, this.rect(-0.2, -0.08, 0.55, 0.08))], white);
      mask.drawCircle(this.pt(p, -0.3, 0), Math.round(p.size * 0.2), white, -1);
    } else mask.drawFillPoly([this.poly(p, this.rect(-0.5, -0.33, 0.5, 0.33))], white);
  }

  /** Draws the defect into img and its full shape into mask (the caller clips both to the part). */
  private drawDefect(img: Mat, mask: Mat, p: PartPlan): void {
    const { cv } = this;
    const d = p.defect;
    if (!d) return;
    const white = new cv.Vec3(255, 255, 255);
    if (d.kind === 'scratch') {
      // sizes: large enough to survive the resize of a whole frame to the model's 224 px (a scratch
      // 0.018 part sizes wide became a 1 px line there, and the demo model trained in 20 CPU-minutes
      // never learned it); the real AdaCLIP at 518 px finds finer ones
      const t = Math.max(2, Math.round(p.size * 0.04));
      const a = this.pt(p, d.u, d.v);
      const b = this.pt(p, d.u + d.u2, d.v + d.v2);
      // BGR: bright copper where the coating is scratched through, dark rust in an old scratch
      img.drawLine(a, b, d.light ? new cv.Vec3(110, 160, 230) : new cv.Vec3(25, 55, 120), t, cv.LINE_AA);
      // the anti-aliased fringe belongs to the scratch too
      mask.drawLine(a, b, white, t + 2);
    } else if (d.kind === 'dent') {
      const center = this.pt(p, d.u, d.v);
      const axes = new cv.Size(
        Math.max(2, Math.round(p.size * (0.11 + Math.abs(d.u2) * 0.1))),
        Math.max(2, Math.round(p.size * (0.08 + Math.abs(d.v2) * 0.08))),
      );
      const deg = (p.angle * 180) / Math.PI;
      // a dent's corroded floor (BGR dark brown) and its bright upper lip
      img.drawEllipse(center, axes, deg, 0, 360, new cv.Vec3(30, 50, 85), -1, cv.LINE_AA);
      img.drawEllipse(center, axes, deg, 200, 340, new cv.Vec3(200, 200, 205), 2, cv.LINE_AA);
      mask.drawEllipse(center, new cv.Size(axes.width + 1, axes.height + 1), deg, 0, 360, white, -1);
    } else {
      // a chunk broken off the rim, from 0.22 part sizes out to beyond the edge
      const a = Math.atan2(d.v, d.u);
      const w = 0.35 + Math.abs(d.u2) * 0.4;
      const e = (r: number, ang: number): [number, number] => [r * Math.cos(ang), r * Math.sin(ang)];
      // img is the clean belt here: pasting it through the mask removes the chunk
      const chunk = this.poly(p, [e(0.22, a - w), e(0.22, a + w), e(0.9, a + w), e(0.9, a - w)]);
      mask.drawFillPoly([chunk], white);
      // the fracture's fresh bright face along the break, inside the chunk (so inside the mask)
      img.drawPolylines(
        [chunk],
        true,
        new cv.Vec3(170, 210, 245),
        Math.max(2, Math.round(p.size * 0.05)),
        cv.LINE_AA,
      );
    }
  }
}

/** Bounding box of the non-zero pixels of a single-channel uint8 mask, shifted by (dx, dy). */
function nonZeroBox(mask: Mat, dx: number, dy: number): PixelBox | undefined {
  const data = mask.getData();
  const w = mask.cols;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < mask.rows; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      if (data[row + x] === 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  if (x1 < 0) return undefined;
  return { x: x0 + dx, y: y0 + dy, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}
