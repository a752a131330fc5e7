// The loopback fleet lives in src/bench/ (the fleet benchmark ships in src and needs it); tests import it from here.
export * from '../../src/bench/loopback-fleet.js';
