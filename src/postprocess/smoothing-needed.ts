// Most frames on a good line are normal; smoothing their 518x518 maps costs ms and changes nothing.
// scipy's gaussian_filter is a convex combination (positive weights summing to 1, reflect borders),
// so max(smoothed) <= max(raw): a raw map with every value below the pixel threshold smooths to a
// map without a single defective pixel, and its regions are empty either way. The margin covers
// float rounding of the weights; a NaN always asks for smoothing so the decision still reports it.
export const MARGIN = 1e-5;

/** Whether the smoothed map can hold a pixel at or above `pixelThreshold` (false: regions are empty). */
export function smoothingNeeded(map: Float32Array, pixelThreshold: number): boolean {
  const limit = pixelThreshold - MARGIN;
  for (let i = 0; i < map.length; i++) if (!(map[i] < limit)) return true;
  return false;
}
