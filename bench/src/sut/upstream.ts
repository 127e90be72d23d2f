/** Child process: the paced upstream (see paced-upstream.ts). Announces the gRPC URL; `openaiUrl` comes along. */
import { startPacedUpstream } from "../paced-upstream.ts";
import { reportReady } from "./child-control.ts";

const up = await startPacedUpstream();
reportReady(up.grpcUrl, { openaiUrl: up.openaiUrl });
