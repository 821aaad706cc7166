// Renders fixture product photos for the Shopify stand-in's synchronous path (see fixture-images.ts):
// the parent blocks on `signal` while this thread renders with sharp, then reads the reply off the port.
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const { renderProductImage } = await import(workerData.fixtureModule);
const signal = new Int32Array(workerData.signal);
const port = workerData.port;

port.on("message", async (request) => {
  try {
    const bytes = await renderProductImage(request.spec);
    port.postMessage({ id: request.id, bytes });
  } catch (error) {
    port.postMessage({ id: request.id, error: String(error) });
  }
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
parentPort?.postMessage("ready");
