// The geometry of a frame on its way to the model and back, shared by preprocessing (ROI, rotation),
// post-processing (regions) and events (snapshot overlays). The preprocessing chain is:
// captured frame -> rotate clockwise by `rotate` (upright) -> crop `roi` (upright pixels) -> resize to
// S x S. Coordinates here are continuous (pixel edges), so a map pixel (i, j) covers
// [j, j+1) x [i, i+1) and boxes map exactly when the ROI is a multiple of S.

/** Clockwise rotation applied to the captured frame before the ROI crop. */
export type Rotation = 0 | 90 | 180 | 270;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where the map came from: the captured frame size (before rotation) and the crop that was resized. */
export interface MapSource {
  /** Captured frame width and height, as the camera delivered it (before rotation). */
  width: number;
  height: number;
  /** Region of interest in the upright (rotated) frame; the whole upright frame when there is no ROI. */
  roi: Rect;
  /** Clockwise rotation applied to the captured frame before cropping. */
  rotate?: Rotation;
}

export class GeometryError extends Error {
  override name = 'GeometryError';
}

/** Size of the frame after rotation. */
export function uprightSize(src: MapSource): { width: number; height: number } {
  const r = src.rotate ?? 0;
  return r === 90 || r === 270
    ? { width: src.height, height: src.width }
    : { width: src.width, height: src.height };
}

export function validateMapSource(src: MapSource): void {
  const { width, height, roi } = src;
  const r = src.rotate ?? 0;
  if (![0, 90, 180, 270].includes(r))
    throw new GeometryError(`rotate must be 0, 90, 180 or 270, got ${String(r)}`);
  if (!(width > 0 && height > 0))
    throw new GeometryError(`frame size must be positive, got ${width}x${height}`);
  const up = uprightSize(src);
  if (!(roi.width > 0 && roi.height > 0 && roi.x >= 0 && roi.y >= 0))
    throw new GeometryError(
      `roi must have a positive size and a non-negative origin, got ${JSON.stringify(roi)}`,
    );
  if (roi.x + roi.width > up.width || roi.y + roi.height > up.height)
    throw new GeometryError(
      `roi ${JSON.stringify(roi)} lies outside the ${up.width}x${up.height} upright frame (rotate ${r})`,
    );
}

/** Upright (u, v) -> captured frame (x, y), continuous coordinates. */
export function uprightToFrame(u: number, v: number, src: MapSource): { x: number; y: number } {
  const W = src.width;
  const H = src.height;
  switch (src.rotate ?? 0) {
    case 90: // captured (x, y) -> upright (H - y, x)
      return { x: v, y: H - u };
    case 180:
      return { x: W - u, y: H - v };
    case 270: // captured (x, y) -> upright (y, W - x)
      return { x: W - v, y: u };
    default:
      return { x: u, y: v };
  }
}

/** Map (continuous, map pixels) -> captured frame (continuous). */
export function mapPointToFrame(
  px: number,
  py: number,
  mapSize: number,
  src: MapSource,
): { x: number; y: number } {
  const u = src.roi.x + (px * src.roi.width) / mapSize;
  const v = src.roi.y + (py * src.roi.height) / mapSize;
  return uprightToFrame(u, v, src);
}

/** A box in map pixels -> the box it covers in captured frame pixels (edges rounded to the nearest pixel). */
export function mapRectToFrame(box: Rect, mapSize: number, src: MapSource): Rect {
  const a = mapPointToFrame(box.x, box.y, mapSize, src);
  const b = mapPointToFrame(box.x + box.width, box.y + box.height, mapSize, src);
  const x0 = Math.round(Math.min(a.x, b.x));
  const y0 = Math.round(Math.min(a.y, b.y));
  const x1 = Math.round(Math.max(a.x, b.x));
  const y1 = Math.round(Math.max(a.y, b.y));
  return { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) };
}

/** Frame pixels covered by one map pixel. */
export function framePixelsPerMapPixel(mapSize: number, src: MapSource): number {
  return (src.roi.width / mapSize) * (src.roi.height / mapSize);
}
