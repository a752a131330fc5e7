// Ground-truth masks at the anomaly map's size. A mask file is read with OpenCV; any non-zero pixel is
// defective (as MVTec AD and the official AdaCLIP loader read them). It is shrunk to S x S by area
// averaging, and a map pixel is defective where more than half of its area is: the official code
// resizes with PIL's antialiased bilinear filter and keeps values > 0.5, the same rule up to the
// filter's shape. Regions are 8-connected, as anomalib's cv2.connectedComponents and the MVTec AD
// evaluation label them.
import { loadOpenCV, readImageFile } from '../util/opencv.js';
import { int32View } from '../postprocess/regions.js';

export interface MapMask {
  /** S x S, 1 = defective. */
  data: Uint8Array;
  defectPixels: number;
  /** Size of the mask file, which must match its image. */
  width: number;
  height: number;
}

export interface MaskRegions {
  /** S x S region label per pixel: 0 = normal, 1..count. */
  labels: Int32Array;
  /** areas[r - 1] = pixels of region r. */
  areas: Int32Array;
  count: number;
}

export function readMapMask(path: string, S: number): MapMask {
  const cv = loadOpenCV();
  const mat = readImageFile(path, cv.IMREAD_GRAYSCALE, 'mask');
  const binary = mat.threshold(0, 255, cv.THRESH_BINARY);
  const small = binary.cols === S && binary.rows === S ? binary : binary.resize(S, S, 0, 0, cv.INTER_AREA);
  const bytes = small.getData();
  const data = new Uint8Array(S * S);
  let defectPixels = 0;
  for (let i = 0; i < data.length; i++) {
    if (bytes[i] >= 128) {
      data[i] = 1;
      defectPixels++;
    }
  }
  return { data, defectPixels, width: mat.cols, height: mat.rows };
}

export function maskRegions(mask: Uint8Array, S: number): MaskRegions {
  const cv = loadOpenCV();
  const { labels, stats } = new cv.Mat(
    Buffer.from(mask.buffer, mask.byteOffset, mask.length),
    S,
    S,
    cv.CV_8UC1,
  ).connectedComponentsWithStats(8, cv.CV_32S);
  const count = stats.rows - 1; // label 0 is the background
  const st = int32View(stats.getData(), stats.rows * 5);
  const areas = new Int32Array(count);
  for (let r = 0; r < count; r++) areas[r] = st[(r + 1) * 5 + cv.CC_STAT_AREA];
  return { labels: int32View(labels.getData(), S * S), areas, count };
}
