#!/usr/bin/env node
// adaclip-edge: the command-line entry point. Each command's work lives in its own module, imported
// lazily so that `--help` and `doctor` start fast and a broken optional part cannot stop the others.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../util/paths.js';
import { redactSecrets } from '../util/redact.js';
import type { CalibrateCommandOptions } from './calibrate-command.js';
import type { EvalCommandOptions } from './eval-command.js';
import type { FleetCommandOptions } from './fleet-command.js';
import type { SynthCommandOptions } from './synth-command.js';

const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string };

const program = new Command();
program
  .name('adaclip-edge')
  .description('Zero-shot anomaly detection on production lines: AdaCLIP on the edge, events over MQTT')
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)');

program
  .command('run')
  .description('run the inspection service: cameras -> AdaCLIP -> decisions -> MQTT events')
  .requiredOption('-c, --config <file>', 'YAML config file (see config/*.yaml)')
  .option('--log-level <level>', 'override log.level')
  .action(async (opts: { config: string; logLevel?: string }) => {
    const { runCommand } = await import('./run.js');
    process.exitCode = await runCommand(opts);
  });

program
  .command('infer')
  .description('score images or preprocessed .npy tensors with a model bundle, one JSON line per input')
  .requiredOption('-b, --bundle <dir>', 'model bundle folder (manifest.json, model.onnx, vocabulary)')
  .requiredOption('--class <name>', 'product name the prompts describe, e.g. "screw"')
  .requiredOption('-o, --out <dir>', 'folder for the maps (.npy) and overlays (.png)')
  .option('--json', 'print only the JSON lines on stdout (logs go to stderr)', false)
  .addOption(new Option('--threads <n>', 'onnxruntime intra-op threads (0 = default)').default('0'))
  .argument('<input...>', 'image files (png, jpg, ...) or float32 .npy tensors [3,S,S]')
  .action(
    async (
      inputs: string[],
      opts: { bundle: string; class: string; out: string; json: boolean; threads: string },
    ) => {
      const { inferCommand } = await import('./infer-command.js');
      process.exitCode = await inferCommand(inputs, opts);
    },
  );

program
  .command('doctor')
  .description('check what is present and usable: OpenCV, onnxruntime, TensorRT, CUDA, broker, model bundle')
  .option('-c, --config <file>', 'also check this config: its bundle, broker and cameras')
  .action(async (opts: { config?: string }) => {
    const { doctorCommand } = await import('./doctor.js');
    process.exitCode = await doctorCommand(opts);
  });

program
  .command('export')
  .description('export an AdaCLIP checkpoint to a model bundle (runs models/export/export.py)')
  .allowUnknownOption(true)
  .helpOption(false)
  .argument('[args...]', 'arguments for export.py (see: adaclip-edge export --help)')
  .action(async (args: string[]) => {
    const { exportCommand } = await import('./export-command.js');
    process.exitCode = await exportCommand(args);
  });

program
  .command('build-engine')
  .description('build (or reuse) the TensorRT engine for a bundle on this device')
  .requiredOption('-b, --bundle <dir>', 'model bundle folder')
  .addOption(new Option('--precision <p>', 'engine precision').choices(['fp16', 'fp32']).default('fp16'))
  .option('--max-batch <n>', 'largest batch the engine accepts', '4')
  .option('--force', 'rebuild even when a matching engine is cached', false)
  .action(async (opts: { bundle: string; precision: 'fp16' | 'fp32'; maxBatch: string; force: boolean }) => {
    const { buildEngineCommand } = await import('./build-engine.js');
    process.exitCode = await buildEngineCommand(opts);
  });

program
  .command('eval')
  .description(
    'evaluate on an MVTec AD test split: image AUROC/AP/F1-max, pixel AUROC/AUPRO/F1-max, per-image CSV, worst mistakes',
  )
  .requiredOption('-b, --bundle <dir>', 'model bundle folder')
  .requiredOption('--class <name>', 'product name the prompts describe')
  .option('--json', 'print one JSON document on stdout (progress goes to stderr)', false)
  .option('-o, --out <dir>', 'folder for per-image.csv and worst.png (default: var/eval/<class>-<time>)')
  .option(
    '--threshold <score>',
    'image threshold for the CSV verdicts and worst.png (default: the F1-max one)',
  )
  .option('--worst <n>', 'rows of worst.png per kind (false positives, false negatives)', '4')
  .option('--save-maps', 'also write every smoothed map (.npy) and mask (.png) at the map size', false)
  .addOption(new Option('--threads <n>', 'onnxruntime intra-op threads (0 = default)').default('0'))
  .argument(
    '<folder>',
    'class folder with test/good, test/<defect> and ground_truth/<defect>/<name>_mask.png',
  )
  .action(async (folder: string, opts: EvalCommandOptions) => {
    const { evalCommand } = await import('./eval-command.js');
    process.exitCode = await evalCommand(folder, opts);
  });

program
  .command('hash-password')
  .description(
    'make a password hash for dashboard.users (asks for the password, or reads one line from stdin)',
  )
  .option('-u, --user <name>', 'print the whole dashboard.users entry for this user')
  .addOption(
    new Option('--role <role>', 'role of the entry').choices(['viewer', 'operator']).default('operator'),
  )
  .action(async (opts: { user?: string; role: 'viewer' | 'operator' }) => {
    const { hashPasswordCommand } = await import('./hash-password-command.js');
    process.exitCode = await hashPasswordCommand(opts);
  });

program
  .command('synth')
  .description(
    'write labelled images of the synthetic line in the MVTec AD layout (train/good, test/<defect>, ground_truth, parts.jsonl)',
  )
  .requiredOption('-o, --out <dir>', 'output folder (new or empty)')
  .requiredOption('--count <n>', 'images in test/ (good and defective; one subject part each)')
  .requiredOption('--seed <s>', 'seed of the line: the same seed writes the same bytes')
  .option('--train-good <n>', 'good images in train/good (default: --count)')
  .option('--defect-rate <r>', 'share of test images whose part has a defect', '0.5')
  .option('--kinds <list>', 'part kinds, comma-separated', 'nut,screw,pcb')
  .option('--size <WxH>', "frame size in pixels (default: the demo camera's)", '640x480')
  .option(
    '--part-scale <f>',
    "part size as a share of the frame's shorter side (default: the demo camera's zoom)",
    '0.45',
  )
  .action(async (opts: SynthCommandOptions) => {
    const { synthCommand } = await import('./synth-command.js');
    process.exitCode = await synthCommand(opts);
  });

const review = program.command('review').description("operators' reviews of events and results");
review
  .command('export')
  .description(
    'write the reviewed images as an MVTec AD layout folder (false positives -> good, confirmed -> defect)',
  )
  .requiredOption('-c, --config <file>', "the service's YAML config (its history.path and snapshots)")
  .requiredOption('-o, --out <dir>', 'output folder (created; files of an earlier export are overwritten)')
  .action(async (opts: { config: string; out: string }) => {
    const { reviewExportCommand } = await import('./review-command.js');
    process.exitCode = await reviewExportCommand(opts);
  });

program
  .command('calibrate')
  .description(
    'propose thresholds.image, .clear and .pixel from good images only; optionally write them into a config or send them to a running service',
  )
  .requiredOption('--good <dir>', 'folder of good images (e.g. train/good of an MVTec AD layout)')
  .option('-b, --bundle <dir>', 'model bundle folder (default: model.bundle of --config)')
  .option('--class <name>', "product name the prompts describe (default: the camera's className)")
  .option('--target-fpr <rate>', 'false alarms per good image aimed at', '0.01')
  .option('--margin <sd>', 'robust standard deviations of the good values added above their quantile', '1')
  .option('-c, --config <file>', "the service's config: its model settings and the camera's ROI and rotation")
  .option('--camera <id>', 'the camera to calibrate (with --config, --write, --send)')
  .option(
    '--write',
    "write the thresholds and a calibration record into the camera's entry in --config",
    false,
  )
  .option(
    '--send <url>',
    'send them to a running service with its set-thresholds command, e.g. mqtt://127.0.0.1:1883',
  )
  .option(
    '--base-topic <topic>',
    "with --send: the service's mqtt.baseTopic (default: from --config, else adaclip-edge)",
  )
  .option(
    '--client-id <id>',
    'with --send: send as this client (MQTT client id and <base>/request/set-thresholds/<id>), for mqtt.commands.clients rules; default: a random adaclip-edge-calibrate-<8 hex>',
  )
  .option('--timeout <s>', 'with --send: seconds to wait for the response', '10')
  .option('--json', 'print one JSON document on stdout (progress goes to stderr)', false)
  .action(async (opts: CalibrateCommandOptions) => {
    const { calibrateCommand } = await import('./calibrate-command.js');
    process.exitCode = await calibrateCommand(opts);
  });

program
  .command('bench')
  .description('run benchmarks (same as npm run bench): [NAME_PREFIX...] [--json FILE] [--long] [--list]')
  .allowUnknownOption(true)
  .helpOption(false)
  .argument('[args...]')
  .action(async (args: string[]) => {
    process.argv = [process.argv[0], 'bench', ...args];
    await import('../bench/main.js');
  });

program
  .command('config-schema')
  .description('print the JSON Schema of the config file (also in config/adaclip-edge.schema.json)')
  .action(async () => {
    const { configJsonSchema } = await import('../config/json-schema.js');
    console.log(JSON.stringify(configJsonSchema(), null, 2));
  });

program
  .command('fleet')
  .description('read-only web page over every device on a broker: online, model, scores, alarms, outbox')
  .requiredOption('--broker <url>', 'broker the devices publish to (mqtt://, mqtts://), e.g. the central')
  .option(
    '--base <filter...>',
    'base topics of the devices, + for varying levels (central behind site bridges: +/adaclip-edge/+)',
    ['+/adaclip-edge/+'],
  )
  .option('--host <host>', 'address to listen on (no login: keep it local or behind a proxy)', '127.0.0.1')
  .option('--port <port>', 'port of the page', '8090')
  .option('--username <name>', 'broker user (password from --password-file or ADACLIP_EDGE_FLEET_PASSWORD)')
  .option('--password-file <file>', 'file whose first line is the broker password')
  .option('--ca <file>', 'CA certificate to trust (mqtts://)')
  .option('--cert <file>', 'client certificate (mqtts:// with client certificates)')
  .option('--key <file>', 'client key')
  .option('--log-level <level>', 'log level', 'info')
  .action(async (opts: FleetCommandOptions) => {
    const { fleetCommand } = await import('./fleet-command.js');
    process.exitCode = await fleetCommand(opts);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`adaclip-edge: ${redactSecrets((err as Error).message)}`);
  process.exitCode = 1;
});
