// HSF finds the node-tensorrt addon where the other CPU-side users do (src/util/node-tensorrt-addon.ts).
export {
  nodeTensorRtAddonPath as hsfAddonPath,
  requireNodeTensorRtAddon as requireHsfAddon,
} from '../util/node-tensorrt-addon.js';
