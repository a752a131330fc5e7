// `adaclip-edge calibrate --good DIR ...`: thresholds from good images only (src/calibration/), shown
// with the rule and the false-alarm rate on those images; optionally written into a camera's config
// (--write) and sent to a running service (--send). docs/calibration.md explains the rule.
import { modelSchema, type CameraConfig, type Config } from '../config/schema.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { calibrate, CalibrationInputError, type CalibrationResult } from '../calibration/calibrate.js';
import { writeCalibration } from '../calibration/config-writer.js';
import { formatPct, formatScore, percentileName, type ThresholdDerivation } from '../calibration/rule.js';
import { sendThresholds } from '../calibration/send.js';
import { demoModelLine } from '../model/demo-note.js';
import { resolveMqttSettings, toClientOptions } from '../mqtt/client-options.js';
import { createLogger } from '../util/log.js';
import { redactSecrets, redactUrl } from '../util/redact.js';
import { parseFraction, printProblems } from './cli-input.js';

export interface CalibrateCommandOptions {
  good: string;
  bundle?: string;
  class?: string;
  targetFpr: string;
  margin: string;
  config?: string;
  camera?: string;
  write: boolean;
  send?: string;
  baseTopic?: string;
  clientId?: string;
  timeout: string;
  json: boolean;
}

interface Plan {
  targetFpr: number;
  margin: number;
  timeoutMs: number;
  cfg?: Config;
  camera?: CameraConfig;
  bundle: string;
  className: string;
}

/** Checks the options against each other and the config; throws with what is wrong. */
function plan(o: CalibrateCommandOptions): Plan {
  const targetFpr = parseFraction(o.targetFpr, '--target-fpr');
  const margin = Number(o.margin);
  if (o.margin.trim() === '' || !Number.isFinite(margin) || margin < 0)
    throw new Error(`--margin: expected a number of standard deviations >= 0, got "${o.margin}"`);
  const timeoutS = Number(o.timeout);
  if (!(timeoutS > 0)) throw new Error(`--timeout: expected seconds > 0, got "${o.timeout}"`);
  if (o.write && !(o.config && o.camera)) throw new Error('--write needs --config FILE and --camera ID');
  if (o.send && !o.camera) throw new Error('--send needs --camera ID (the camera the service should change)');
  if (o.clientId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/.test(o.clientId))
    throw new Error(
      `--client-id: "${o.clientId}" is not a client id (letters, digits, _ . : @ -; at most 64)`,
    );
  if (o.config && !o.camera) throw new Error('--config needs --camera ID (the camera to calibrate)');
  let cfg: Config | undefined;
  let camera: CameraConfig | undefined;
  if (o.config) {
    cfg = loadConfigFile(o.config);
    camera = cfg.cameras.find((c) => c.id === o.camera);
    if (!camera)
      throw new Error(
        `${o.config}: no camera "${o.camera}" (cameras: ${cfg.cameras.map((c) => c.id).join(', ')})`,
      );
  }
  const bundle = o.bundle ?? cfg?.model.bundle;
  if (!bundle) throw new Error('no model bundle: give --bundle DIR, or --config FILE --camera ID');
  const className = o.class ?? camera?.className;
  if (!className) throw new Error('no class name: give --class NAME, or --config FILE --camera ID');
  return { targetFpr, margin, timeoutMs: timeoutS * 1000, cfg, camera, bundle, className };
}

export async function calibrateCommand(o: CalibrateCommandOptions): Promise<number> {
  const logger = createLogger({ level: 'warn' });
  let p: Plan;
  try {
    p = plan(o);
  } catch (err) {
    if (err instanceof ConfigError) printProblems('calibrate', `invalid config ${err.file}`, err.problems);
    else console.error(`calibrate: ${(err as Error).message}`);
    return 2;
  }
  let result: CalibrationResult;
  try {
    result = await calibrate({
      goodDir: o.good,
      className: p.className,
      model: p.cfg ? { ...p.cfg.model, bundle: p.bundle } : modelSchema.parse({ bundle: p.bundle }),
      view: p.camera && { roi: p.camera.roi, rotate: p.camera.rotate },
      targetFpr: p.targetFpr,
      marginSigmas: p.margin,
      logger,
    });
  } catch (err) {
    if (err instanceof CalibrationInputError) {
      printProblems('calibrate', `cannot calibrate on ${o.good}`, err.problems);
      return 2;
    }
    throw err;
  }
  const { proposal } = result;
  const out: Record<string, unknown> = { ...proposal, calibration: result.record, bundle: result.bundle };
  if (!o.json) console.log(formatProposal(result, p));
  for (const w of proposal.warnings) console.error(`calibrate: WARNING: ${w}`);
  if (result.ignoredFiles.length)
    console.error(
      `calibrate: ignored ${result.ignoredFiles.length} file(s) that are not images, e.g. ${result.ignoredFiles[0]}`,
    );
  if (result.bundle.untrained)
    console.error('calibrate: WARNING: untrained bundle (random weights): these thresholds mean nothing');
  if (result.bundle.demoModel !== undefined)
    console.error(
      `calibrate: NOTE: ${demoModelLine(result.bundle.demoModel)} (synthetic-trained): thresholds for that line only`,
    );

  let code = 0;
  if (o.write) {
    try {
      writeCalibration(o.config!, o.camera!, proposal.thresholds, result.record);
      out.written = o.config;
      if (!o.json)
        console.log(`  wrote cameras[id=${o.camera}].thresholds and .calibration into ${o.config}`);
      const index = p.cfg!.cameras.indexOf(p.camera!);
      const shadowing = Object.keys(process.env).filter((k) =>
        k.toUpperCase().startsWith(`ADACLIP_EDGE__CAMERAS__${index}__THRESHOLDS`),
      );
      if (shadowing.length)
        console.error(
          `calibrate: WARNING: ${shadowing.join(', ')} set in the environment override the written thresholds`,
        );
    } catch (err) {
      console.error(`calibrate: ${(err as Error).message}`);
      code = 1;
    }
  }
  if (o.send) {
    try {
      const base = o.baseTopic ?? p.cfg?.mqtt.baseTopic ?? 'adaclip-edge';
      const clientOptions = p.cfg
        ? toClientOptions(resolveMqttSettings(p.cfg.mqtt, { url: o.send, protocolVersion: 4 }))
        : undefined;
      const result2 = await sendThresholds({
        url: o.send,
        baseTopic: base,
        cameraId: o.camera!,
        thresholds: proposal.thresholds,
        calibration: result.record,
        timeoutMs: p.timeoutMs,
        clientOptions,
        requester: o.clientId,
      });
      out.sent = result2;
      if (!o.json)
        console.log(
          `  sent to camera ${o.camera} over ${redactUrl(o.send)}: the service answered ${JSON.stringify(result2)}`,
        );
    } catch (err) {
      console.error(`calibrate: --send: ${redactSecrets((err as Error).message)}`);
      code = 1;
    }
  }
  if (o.json) console.log(JSON.stringify(out));
  return code;
}

function formatProposal(r: CalibrationResult, p: Plan): string {
  const { proposal: pr } = r;
  const pct = percentileName(pr.targetFpr);
  const line = (name: string, d: ThresholdDerivation, what: string, scale = '') =>
    `  ${name} ${pct} ${formatScore(d.quantile)} + ${pr.marginSigmas} x sd ${formatScore(d.sd)}${scale} = ${formatScore(d.threshold)}   ` +
    `${what}: ${d.above}/${pr.images} (${formatPct(d.rate)})`;
  const t = pr.thresholds;
  return [
    `calibrated "${p.className}" on ${pr.images} good images (bundle ${r.bundle.dir}, HSF ${r.hsf}${p.camera ? `, camera ${p.camera.id}'s ROI and rotation` : ''})`,
    line('image score ', pr.image, 'false alarms on these images', ' (log-odds)'),
    line('map maximum ', pr.pixel, 'images with a region on them'),
    `  proposed (target ${formatPct(pr.targetFpr)} false alarms per image):`,
    `    thresholds: { image: ${t.image}, clear: ${t.clear}, pixel: ${t.pixel} }`,
    `  rule: ${pr.rule}`,
  ].join('\n');
}
