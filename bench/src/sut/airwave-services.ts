/**
 * Child process: the Airwave inference service with the configuration from
 * the environment (OPENAI_BASE_URL pointing at the paced upstream's OpenAI
 * server gives the `openai-compatible` provider).
 */
import { startInferenceServer } from "@airwave/services";
import { reportReady } from "./child-control.ts";

const server = await startInferenceServer({ host: "127.0.0.1", port: 0 });
reportReady(server.url);
