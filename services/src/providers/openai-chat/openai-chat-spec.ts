import { Code, ConnectError } from "@connectrpc/connect";
import type { HttpProviderSpec } from "../../http-provider/http-provider-spec.js";

/** STUB — replaced by the real `openai-chat` spec. */
export const openAIChatSpec: HttpProviderSpec = {
  kind: "openai-chat",
  request() {
    throw new ConnectError("openai-chat: not implemented yet", Code.Unimplemented);
  },
  decode() {
    throw new ConnectError("openai-chat: not implemented yet", Code.Unimplemented);
  },
  errorMessage: () => undefined,
};
