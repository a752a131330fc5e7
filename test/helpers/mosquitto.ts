// The Mosquitto spawner lives with the benchmarks, which ship in src/ and also need a real broker;
// the tests take it from here.
export { Mosquitto, freePort, type MosquittoOptions } from '../../src/bench/mosquitto.js';
