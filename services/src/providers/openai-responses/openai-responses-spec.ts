import { Code, ConnectError } from "@connectrpc/connect";
import type { HttpProviderSpec } from "../../http-provider/http-provider-spec.js";

/** STUB — replaced by the real `openai-responses` spec. */
export const openAIResponsesSpec: HttpProviderSpec = {
  kind: "openai-responses",
  request() {
    throw new ConnectError("openai-responses: not implemented yet", Code.Unimplemented);
  },
  decode() {
    throw new ConnectError("openai-responses: not implemented yet", Code.Unimplemented);
  },
  errorMessage: () => undefined,
};
